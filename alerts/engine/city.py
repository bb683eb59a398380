"""What the engine knows of the city between ticks: every sensor and every series, as arrays.

A series is one (sensor, metric). For each the engine keeps the newest reading (time, value) and
when its value last changed (for flatline rules); for each sensor, when it was last heard from
(for absence rules). Arrays rather than objects because a tick for 100,000 sensors must merge
and compare everything in milliseconds: numpy does the per-series work, Python only touches
the few series that breach or already have an alert.

Times are epoch seconds (float64); -inf means "never".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from schemas.geography import Geography
from schemas.registry import Registry
from storage.catalog import Catalog
from storage.recent import RecentReadings

__all__ = ["NEVER", "City", "SensorRow"]

NEVER = -np.inf
_METRIC_BITS = 16  # metric ids are smallint
Ints = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class SensorRow:
    db_id: int
    external_id: str
    type_name: str
    subdistrict: str


def _keys(sensor: Ints, metric: Ints) -> npt.NDArray[np.int64]:
    return (sensor.astype(np.int64) << _METRIC_BITS) | metric.astype(np.int64)


class City:
    """Sensors (index = position in `sensors`) and series (index = position in `series_key`)."""

    def __init__(self, catalog: Catalog, registry: Registry, geography: Geography) -> None:
        known = [ref for ref in catalog.sensors.values() if ref.type_name in registry]
        known.sort(key=lambda ref: ref.id)
        self.geography = geography
        # Places as small integers, so vital-sign rules fold by place with one comparison.
        self.subdistrict_index: Mapping[str, int] = {s.code: i for i, s in enumerate(geography)}
        self.district_index: Mapping[str, int] = {d: i for i, d in enumerate(geography.districts)}
        district_of = {s.code: self.district_index[s.district] for s in geography}
        self.sensors = [SensorRow(r.id, r.external_id, r.type_name, r.subdistrict) for r in known]
        self.index_of = {r.external_id: i for i, r in enumerate(known)}
        self.sensor_db_ids = np.array([r.id for r in known], np.int64)
        self.sensor_subdistrict = np.array(
            [self.subdistrict_index.get(r.subdistrict, -1) for r in known], np.int16
        )
        self.sensor_district = np.array(
            [district_of.get(r.subdistrict, -1) for r in known], np.int16
        )
        self.last_seen = np.full(len(known), NEVER)
        sensors_of: dict[str, list[int]] = {}
        pairs: list[tuple[int, int, int]] = []  # (key, sensor index, metric id)
        for index, ref in enumerate(known):
            sensors_of.setdefault(ref.type_name, []).append(index)
            sensor_type = registry.types[ref.type_name]
            for metric in sensor_type.metrics:
                found = catalog.metric_ids.get((ref.type_name, metric))
                if found is not None:
                    pairs.append(((ref.id << _METRIC_BITS) | found, index, found))
        pairs.sort()
        self.series_key = np.array([p[0] for p in pairs], np.int64)
        self.series_sensor = np.array([p[1] for p in pairs], np.int64)
        self.series_metric = np.array([p[2] for p in pairs], np.int64)
        self.latest_ts = np.full(len(pairs), NEVER)
        self.latest_value = np.full(len(pairs), np.nan)
        self.changed_at = np.full(len(pairs), NEVER)
        self.sensors_of_type = {t: np.array(v, np.int64) for t, v in sensors_of.items()}
        self.metric_ids = dict(catalog.metric_ids)
        self.interval_s = {t.name: float(t.reporting_interval) for t in registry}

    def __len__(self) -> int:
        return len(self.sensors)

    def series_for(self, sensors: npt.NDArray[np.int64], metric_id: int) -> npt.NDArray[np.int64]:
        """Series index of (sensor, metric) for each sensor index; every pair must exist."""
        keys = _keys(self.sensor_db_ids[sensors], np.full(len(sensors), metric_id))
        return np.searchsorted(self.series_key, keys).astype(np.int64)

    def sensor_index(self, db_ids: Ints) -> npt.NDArray[np.int64]:
        """Sensor index for each database id; -1 where the id is not known here."""
        pos = np.searchsorted(self.sensor_db_ids, db_ids)
        pos = np.minimum(pos, max(len(self.sensor_db_ids) - 1, 0))
        found = (
            self.sensor_db_ids[pos] == db_ids
            if len(self.sensor_db_ids)
            else np.zeros(len(db_ids), bool)
        )
        return np.where(found, pos, -1).astype(np.int64)

    def merge(self, readings: RecentReadings) -> int:
        """Take in new readings; returns how many belong to series not in this catalogue
        (a sensor registered since the catalogue was loaded: time to reload it)."""
        if len(readings) == 0 or len(self.series_key) == 0:
            return len(readings)
        keys = _keys(readings.sensor, readings.metric)
        pos = np.searchsorted(self.series_key, keys)
        pos = np.minimum(pos, len(self.series_key) - 1)
        found = self.series_key[pos] == keys
        unknown = int(np.count_nonzero(~found))
        pos, ts, value = pos[found], readings.ts[found], readings.value[found]
        if len(pos) == 0:
            return unknown
        # The newest reading of each series in this batch: sort by (series, time), keep the last.
        order = np.lexsort((ts, pos))
        pos, ts, value = pos[order], ts[order], value[order]
        last = np.append(pos[1:] != pos[:-1], True)
        pos, ts, value = pos[last], ts[last], value[last]
        newer = ts > self.latest_ts[pos]
        pos, ts, value = pos[newer], ts[newer], value[newer]
        moved = value != self.latest_value[pos]  # NaN (never seen) counts as moved
        self.changed_at[pos[moved]] = ts[moved]
        self.latest_ts[pos] = ts
        self.latest_value[pos] = value
        np.maximum.at(self.last_seen, self.series_sensor[pos], ts)
        return unknown

    def carry_over(self, previous: City) -> None:
        """Keep what `previous` knew (after a catalogue reload)."""
        if len(previous.series_key) and len(self.series_key):
            pos = np.searchsorted(previous.series_key, self.series_key)
            pos = np.minimum(pos, len(previous.series_key) - 1)
            same = previous.series_key[pos] == self.series_key
            self.latest_ts[same] = previous.latest_ts[pos[same]]
            self.latest_value[same] = previous.latest_value[pos[same]]
            self.changed_at[same] = previous.changed_at[pos[same]]
        if len(previous.sensor_db_ids) and len(self.sensor_db_ids):
            old = previous.sensor_index(self.sensor_db_ids)
            has = old >= 0
            self.last_seen[has] = previous.last_seen[old[has]]
