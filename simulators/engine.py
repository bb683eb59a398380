"""The simulation: a fleet's MQTT traffic between two moments, in send order, from a seed.

Pure (no network, no clock): the same seed, fleet, faults and scenarios give the same messages,
byte for byte, so a drill can be replayed and a test can compare two runs. `publisher.py`
sends them; `runner.py` decides when (real time, accelerated, or as fast as possible).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from schemas.sensor_type import MetricKind
from schemas.topics import status_topic, telemetry_topic
from simulators.faults import FaultRates, Faults, corrupt, unit
from simulators.model import NO_EFFECT, Effect, SimSensor
from simulators.scenarios import Scenario
from simulators.signals import SignalModel

WATCH_S = 60.0  # how often event-driven sensors look at their state between reports


@dataclass(frozen=True, order=True)
class SimMessage:
    at: float  # when to send, simulated epoch seconds
    order: int  # tie-breaker: generation order, so sorting is deterministic
    topic: str = field(compare=False)
    payload: bytes = field(compare=False)
    retain: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ScheduledScenario:
    scenario: Scenario
    start: datetime

    @property
    def start_s(self) -> float:
        return self.start.timestamp()


def status_payload(online: bool, at: float) -> bytes:
    ts = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return orjson.dumps({"state": "online" if online else "offline", "ts": ts})


class Simulation:
    def __init__(
        self,
        fleet: Sequence[SimSensor],
        signals: SignalModel,
        *,
        seed: int = 0,
        faults: FaultRates | None = None,
        scenarios: Sequence[ScheduledScenario] = (),
    ) -> None:
        self.fleet = list(fleet)
        self._signals = signals
        self._seed = seed
        self._faults = Faults(faults or FaultRates(), seed)
        self._scenarios = sorted(scenarios, key=lambda s: s.start_s)
        self._topics = [
            telemetry_topic(s.sensor_type.domain, s.subdistrict, s.id) for s in self.fleet
        ]
        self._status = [status_topic(s.sensor_type.domain, s.subdistrict, s.id) for s in self.fleet]
        self._order = 0
        # State metrics worth reporting on change, for sensors that report less than every minute.
        self._watches = [
            tuple(
                name
                for name, metric in s.sensor_type.metrics.items()
                if metric.kind is MetricKind.STATE and metric.simulator is not None
            )
            if s.interval_s > WATCH_S
            else ()
            for s in self.fleet
        ]

    def births(self, at: datetime) -> list[SimMessage]:
        """Retained 'online' for every sensor, as devices send when they connect."""
        t = at.timestamp()
        return [self._message(t, topic, status_payload(True, t), True) for topic in self._status]

    def deaths(self, at: datetime) -> list[SimMessage]:
        """Retained 'offline' for every sensor: what the broker's last wills would publish."""
        t = at.timestamp()
        return [self._message(t, topic, status_payload(False, t), True) for topic in self._status]

    def run(self, start: datetime, end: datetime | None = None) -> Iterator[SimMessage]:
        """Messages with `start <= at < end` (forever if `end` is None), in send order.

        Sensors with state metrics (alarms, occupancy) also look every minute and report at once
        when a state changes, as event-driven devices do; otherwise a smoke alarm could wait an
        hour for its next scheduled report.
        """
        begin = start.timestamp()
        stop = end.timestamp() if end is not None else float("inf")
        regular = [begin + s.interval_s * unit(self._seed, "first", s.id) for s in self.fleet]
        due: list[tuple[float, int]] = [(t, i) for i, t in enumerate(regular)]
        heapq.heapify(due)
        delayed: list[SimMessage] = []
        seq = [0] * len(self.fleet)
        silent = [False] * len(self.fleet)
        states: list[dict[str, float] | None] = [None] * len(self.fleet)
        while due and due[0][0] < stop:
            t, index = heapq.heappop(due)
            while delayed and delayed[0].at <= t:
                yield heapq.heappop(delayed)
            sensor = self.fleet[index]
            watches = self._watches[index]
            if t >= regular[index]:
                jitter = sensor.sensor_type.simulator.jitter
                spread = jitter * (2 * unit(self._seed, "jit", sensor.id, t) - 1)
                regular[index] = t + sensor.interval_s * (1 + spread)
            elif not self._state_changed(sensor, t, watches, states[index]):
                heapq.heappush(due, (min(regular[index], t + WATCH_S), index))
                continue
            heapq.heappush(
                due, (min(regular[index], t + WATCH_S) if watches else regular[index], index)
            )
            seq[index] += 1
            for message in self._report(index, sensor, t, seq[index], silent, states):
                if message.at > t:
                    heapq.heappush(delayed, message)
                else:
                    yield message
        while delayed and delayed[0].at < stop:
            yield heapq.heappop(delayed)

    def _state_changed(
        self, sensor: SimSensor, t: float, watches: tuple[str, ...], last: dict[str, float] | None
    ) -> bool:
        if not watches or last is None or self._faults.silent(sensor.id, t) is not None:
            return False
        at = datetime.fromtimestamp(t, UTC)
        effects = self._effects(sensor, t)
        for metric in watches:
            now = self._signals.state(sensor, metric, at, effects.get(metric, NO_EFFECT))
            if now != last.get(metric):
                return True
        return False

    def _report(
        self,
        index: int,
        sensor: SimSensor,
        t: float,
        seq: int,
        silent: list[bool],
        states: list[dict[str, float] | None],
    ) -> list[SimMessage]:
        faults = self._faults
        if faults.silent(sensor.id, t) is not None:
            if silent[index]:
                return []
            silent[index] = True  # the broker would publish the will once keep-alive lapses
            return [self._message(t, self._status[index], status_payload(False, t), True)]
        out = []
        if silent[index]:
            silent[index] = False
            out.append(self._message(t, self._status[index], status_payload(True, t), True))
        sampled = faults.stuck_since(sensor.id, t) or t
        values = self._signals.reading(
            sensor, datetime.fromtimestamp(sampled, UTC), self._effects(sensor, sampled)
        )
        if self._watches[index]:
            states[index] = {m: values[m] for m in self._watches[index] if m in values}
        self._distort(sensor, t, values)
        ts_ms = round((t + faults.clock_skew_s(sensor.id)) * 1000)
        payload = orjson.dumps({"ts": ts_ms, "seq": seq, "metrics": values})
        if faults.malformed(sensor.id, t):
            payload = corrupt(payload, unit(self._seed, "corrupt", sensor.id, t))
        send_at = t + faults.delay_s(sensor.id, t)
        out.append(self._message(send_at, self._topics[index], payload))
        if faults.duplicated(sensor.id, t):
            out.append(self._message(send_at, self._topics[index], payload))
        return out

    def _effects(self, sensor: SimSensor, t: float) -> dict[str, Effect]:
        effects: dict[str, Effect] = {}
        for scheduled in self._scenarios:
            elapsed = t - scheduled.start_s
            if elapsed < 0:
                break  # sorted by start: none of the rest has begun
            if elapsed > scheduled.scenario.end_s:
                continue
            for metric in sensor.sensor_type.metrics:
                effect = scheduled.scenario.effect_for(sensor, metric, elapsed)
                if effect is not None:
                    effects[metric] = effect
        return effects

    def _distort(self, sensor: SimSensor, t: float, values: dict[str, float]) -> None:
        """Calibration drift and spikes: what a faulty device reports, not what is true."""
        drift = self._faults.drift_fraction(sensor.id, t)
        spike = self._faults.spike_factor(sensor.id, t)
        if not drift and spike is None:
            return
        metrics = sensor.sensor_type.metrics
        for name, value in values.items():
            metric = metrics[name]
            if metric.kind is not MetricKind.GAUGE:
                continue
            changed = value * (1 + drift) * (spike or 1.0)
            spike = None  # a spike hits one metric
            values[name] = round(
                min(max(changed, metric.range.min), metric.range.max), metric.precision
            )

    def _message(self, at: float, topic: str, payload: bytes, retain: bool = False) -> SimMessage:
        self._order += 1
        return SimMessage(at, self._order, topic, payload, retain)
