"""A realistic dataset for the storage figures: the demo's simulated city, a few whole days of it.

The fleet `make demo` runs (2,000 sensors of the shipped types in the 12 subdistricts) reports at
its types' intervals with their jitter, at millisecond resolution as devices send it; values come
from the simulators' signal model: daily profiles, slow drift, per-sensor offsets and noise, each
rounded to its metric's precision, counters that only grow, states that flip now and then. So the
bytes per reading describe what a city stores, neither the best case of constant values nor the
worst case of random ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from operator import itemgetter

from schemas.registry import load_registry
from simulators.fleet import build_fleet
from simulators.signals import SignalModel
from storage.writer import Row

SENSORS = 2_000
DAYS = 3  # daily chunks and partitions: three of each
SEED = 1


class City:
    """The fleet, the signal model, and ids for its sensors and (type, metric) pairs."""

    def __init__(self, sensors: int = SENSORS, seed: int = SEED) -> None:
        self.fleet = build_fleet(load_registry(), size=sensors, seed=seed)
        self.model = SignalModel(seed)
        self.metric_ids: dict[tuple[str, str], int] = {}
        for sensor in self.fleet:
            for metric in sensor.sensor_type.metrics:
                self.metric_ids.setdefault((sensor.type_name, metric), len(self.metric_ids) + 1)
        self._rng = random.Random(seed)

    def hours(self, start: datetime, days: int = DAYS) -> Iterator[list[Row]]:
        """The readings of each hour from `start` (a UTC midnight), in arrival (time) order."""
        begin = start.timestamp()
        # Sensors do not report in step: each starts at its own point of its first interval.
        due = [begin + self._rng.random() * sensor.interval_s for sensor in self.fleet]
        for hour in range(days * 24):
            end = begin + (hour + 1) * 3600
            rows: list[Row] = []
            for index, sensor in enumerate(self.fleet):
                jitter = sensor.sensor_type.simulator.jitter
                while due[index] < end:
                    at = datetime.fromtimestamp(round(due[index], 3), UTC)
                    sensor_id = index + 1
                    for metric, value in self.model.reading(sensor, at).items():
                        metric_id = self.metric_ids[(sensor.type_name, metric)]
                        rows.append((at, sensor_id, metric_id, value))
                    spread = jitter * (2 * self._rng.random() - 1)
                    due[index] += sensor.interval_s * (1 + spread)
            rows.sort(key=itemgetter(0))
            yield rows
