"""A simulated city: how many sensors of each type stand in each subdistrict, where, and how each
one differs from its siblings.

Counts follow each type's `simulator.per_subdistrict` x `hotspots`, optionally scaled to a target
fleet size. Everything is drawn from `random.Random(f"{seed}:{type}:{subdistrict}")`, one stream
per type and subdistrict, drawn sensor by sensor: the same seed gives the same fleet in any
process, and growing a fleet keeps its first sensors where they were (only new ones are added).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

from schemas.districts import SUBDISTRICTS, Subdistrict
from schemas.inventory import Inventory, SensorRecord
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind, MetricSimulation, SensorType
from simulators.model import SimSensor

# Sensors scatter around their subdistrict's centre: gaussian, redrawn beyond the spread so none
# lands outside the district box (the centres are at least 0.01 deg inside it).
SPREAD_DEG = 0.006
_POSITION_SD_DEG = 0.003

# Per-sensor offsets: enough that no two sensors look alike, little enough that the fleet's
# average stays near the type's baseline and few healthy sensors sit permanently past a threshold.
_OFFSET_NOISE_SHARE = 0.5
_OFFSET_BASELINE_SHARE = 0.02
_OFFSET_LIMIT_SD = 3.0

_MAX_ABBREVIATION = 12  # keeps ids well under the 64 characters SENSOR_ID_PATTERN allows


def abbreviations(type_names: Iterable[str]) -> dict[str, str]:
    """A short id-safe abbreviation per type name, unique across them: the initials of its words
    (water_main_pressure -> wmp); on a clash, more letters of the last word, then a number.

    Names are taken in sorted order, so the result depends only on the set of names.
    """
    taken: set[str] = set()
    result: dict[str, str] = {}
    for name in sorted(set(type_names)):
        chosen = next(c for c in _candidates(name) if c not in taken)
        taken.add(chosen)
        result[name] = chosen
    return result


def _candidates(name: str) -> Iterable[str]:
    words = [w for w in name.split("_") if w] or [name]
    head = "".join(w[0] for w in words[:-1])
    for length in range(1, len(words[-1]) + 1):
        candidate = head + words[-1][:length]
        if len(candidate) <= _MAX_ABBREVIATION:
            yield candidate
    initials = (head + words[-1][0])[: _MAX_ABBREVIATION - 4]
    for number in range(2, 10_000):
        yield f"{initials}{number}"


def fleet_counts(registry: Registry, *, size: int | None = None) -> dict[str, dict[str, int]]:
    """Sensors per type and subdistrict code: per_subdistrict x hotspot multiplier (rounded), or,
    with `size`, those counts scaled by one common factor so they add up to about `size`."""
    counts = {t.name: [_base_count(t, d) for d in SUBDISTRICTS] for t in registry}
    if size is not None:
        if size < 1:
            raise ValueError(f"fleet size must be at least 1, got {size}")
        counts = _scaled(counts, size)
    return {
        name: {d.code: n for d, n in zip(SUBDISTRICTS, row, strict=True)}
        for name, row in sorted(counts.items())
    }


def _base_count(sensor_type: SensorType, district: Subdistrict) -> int:
    sim = sensor_type.simulator
    return max(0, round(sim.per_subdistrict * sim.hotspots.get(district.code, 1.0)))


def _scaled(counts: dict[str, list[int]], size: int) -> dict[str, list[int]]:
    # Two levels, so a small fleet keeps the mix of types: share `size` among the types, then
    # each type's share among its subdistricts.
    names = sorted(counts)
    totals = dict(zip(names, _apportion([sum(counts[n]) for n in names], size), strict=True))
    for name in names:
        if totals[name] == 0 and sum(counts[name]) > 0:
            # A type that exists keeps one sensor, paid for by the biggest type while it can.
            totals[name] = 1
            biggest = max(names, key=lambda n: totals[n])
            if totals[biggest] > 1:
                totals[biggest] -= 1
    return {name: _apportion(counts[name], totals[name]) for name in names}


def _apportion(weights: list[int], total: int) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder; ties go to the earlier)."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    quotas = [w * total / whole for w in weights]
    shares = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - quotas[i])
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def build_fleet(registry: Registry, *, size: int | None = None, seed: int = 0) -> list[SimSensor]:
    """The simulated sensors, ordered by type name, subdistrict, number.

    Ids are `sim-{abbreviation}-{subdistrict number 01-12}-{n:04d}`, e.g. `sim-wmp-11-0003`.
    """
    counts = fleet_counts(registry, size=size)
    short = abbreviations(counts)
    fleet: list[SimSensor] = []
    for name, per_district in counts.items():
        sensor_type = registry.types[name]
        for number, district in enumerate(SUBDISTRICTS, start=1):
            prefix = f"sim-{short[name]}-{number:02d}-"
            fleet.extend(_place(sensor_type, district, prefix, per_district[district.code], seed))
    return fleet


def _place(
    sensor_type: SensorType, district: Subdistrict, prefix: str, count: int, seed: int
) -> list[SimSensor]:
    if count == 0:
        return []
    rng = random.Random(f"{seed}:{sensor_type.name}:{district.code}")
    varied = [
        (name, metric, metric.simulator)
        for name, metric in sensor_type.metrics.items()
        if metric.simulator is not None and metric.kind is not MetricKind.STATE
    ]
    sensors: list[SimSensor] = []
    for n in range(1, count + 1):
        # Fixed draw order per sensor, so sensor n is the same whatever the count.
        lat = district.lat + _scatter(rng)
        lon = district.lon + _scatter(rng)
        offsets = {name: _offset(rng, metric, sim) for name, metric, sim in varied}
        sensors.append(
            SimSensor(
                id=f"{prefix}{n:04d}",
                sensor_type=sensor_type,
                subdistrict=district.code,
                lat=round(lat, 6),
                lon=round(lon, 6),
                offsets=offsets,
                phase=rng.random(),
            )
        )
    return sensors


def _scatter(rng: random.Random) -> float:
    while True:
        delta = rng.gauss(0.0, _POSITION_SD_DEG)
        if abs(delta) <= SPREAD_DEG:
            return delta


def _offset(rng: random.Random, metric: Metric, sim: MetricSimulation) -> float:
    """A sensor's constant deviation from the type's baseline (for counters: from its rate)."""
    sd = _OFFSET_NOISE_SHARE * sim.noise + _OFFSET_BASELINE_SHARE * abs(sim.baseline)
    offset = max(-_OFFSET_LIMIT_SD * sd, min(_OFFSET_LIMIT_SD * sd, rng.gauss(0.0, sd)))
    if metric.kind is MetricKind.COUNTER:
        return max(offset, -sim.baseline)  # a rate never runs backwards
    level = min(max(sim.baseline + offset, metric.range.min), metric.range.max)
    return level - sim.baseline


def fleet_inventory(fleet: Sequence[SimSensor]) -> Inventory:
    """The fleet as an inventory the platform can register; names like "模拟 供水管网压力计 #12",
    numbered per type in fleet order. Raises ValueError on a duplicate id."""
    numbers: dict[str, int] = {}
    records: dict[str, SensorRecord] = {}
    for sensor in fleet:
        if sensor.id in records:
            raise ValueError(f"duplicate simulated sensor id {sensor.id!r}")
        number = numbers[sensor.type_name] = numbers.get(sensor.type_name, 0) + 1
        records[sensor.id] = SensorRecord(
            id=sensor.id,
            type=sensor.type_name,
            subdistrict=sensor.subdistrict,
            lat=sensor.lat,
            lon=sensor.lon,
            name=f"模拟 {sensor.sensor_type.display_name.zh} #{number}",
        )
    return Inventory(sensors=records)
