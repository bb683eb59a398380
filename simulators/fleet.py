"""A simulated city: how many sensors of each type stand in each subdistrict, where, and how each
one differs from its siblings.

Every subdistrict of the configured geography gets sensors (all its districts, in configuration
order). Counts follow each type's `simulator.per_subdistrict` x `hotspots`, optionally scaled to a
target fleet size; a hotspot naming a subdistrict the geography does not hold is reported by
`hotspot_warnings` and ignored (the shipped types name places of the default district, and a
deployment elsewhere uses them as they are). Sensors stand at uniform random points inside their
subdistrict's polygon. Everything is drawn from `random.Random(f"{seed}:{type}:{subdistrict}")`,
one stream per type and subdistrict, drawn sensor by sensor: the same seed gives the same fleet in
any process, and growing a fleet keeps its first sensors where they were (only new ones are added).
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Iterable, Sequence

import shapely

from schemas.errors import Problem
from schemas.geography import Geography, Subdistrict, load_geography
from schemas.geojson_area import Area
from schemas.inventory import Inventory, SensorRecord
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind, MetricSimulation, SensorType
from simulators.model import SimSensor

# Points are drawn in the polygon's bounding box until one falls inside (a subdistrict fills a
# good share of its box, so a few draws do). A degenerate polygon would never be hit: after this
# many draws the sensor stands on the subdistrict's representative point.
_MAX_POSITION_DRAWS = 1_000

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


def hotspot_warnings(registry: Registry, geography: Geography) -> list[Problem]:
    """Hotspots naming a subdistrict the geography does not hold, each naming the type file and
    the key (`simulator.hotspots.<code>`): the fleet ignores them."""
    found: list[Problem] = []
    for sensor_type in registry:
        source = registry.sources.get(sensor_type.name, sensor_type.name)
        for code in sensor_type.simulator.hotspots:
            if code not in geography:
                close = difflib.get_close_matches(code, list(geography.subdistricts), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                message = (
                    f"unknown subdistrict {code!r} in {geography.describe()}: {hint}"
                    "the simulated fleet ignores this hotspot"
                )
                found.append(Problem(source, f"simulator.hotspots.{code}", message))
    return found


def fleet_counts(
    registry: Registry, geography: Geography, *, size: int | None = None
) -> dict[str, dict[str, int]]:
    """Sensors per type and subdistrict code: per_subdistrict x hotspot multiplier (rounded), or,
    with `size`, those counts scaled by one common factor so they add up to about `size`."""
    places = list(geography)
    counts = {t.name: [_base_count(t, d) for d in places] for t in registry}
    if size is not None:
        if size < 1:
            raise ValueError(f"fleet size must be at least 1, got {size}")
        counts = _scaled(counts, size)
    return {
        name: {d.code: n for d, n in zip(places, row, strict=True)}
        for name, row in sorted(counts.items())
    }


def _base_count(sensor_type: SensorType, sub: Subdistrict) -> int:
    sim = sensor_type.simulator
    return max(0, round(sim.per_subdistrict * sim.hotspots.get(sub.code, 1.0)))


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


def build_fleet(
    registry: Registry,
    geography: Geography | None = None,
    *,
    size: int | None = None,
    seed: int = 0,
) -> list[SimSensor]:
    """The simulated sensors in `geography` (tests may leave it out: the shipped default),
    ordered by type name, subdistrict, number.

    Ids are `sim-{abbreviation}-{subdistrict's number in the geography, 01..}-{n:04d}`, e.g.
    `sim-wmp-11-0003`.
    """
    places = load_geography() if geography is None else geography
    counts = fleet_counts(registry, places, size=size)
    short = abbreviations(counts)
    fleet: list[SimSensor] = []
    for name, per_subdistrict in counts.items():
        sensor_type = registry.types[name]
        for number, sub in enumerate(places, start=1):
            prefix = f"sim-{short[name]}-{number:02d}-"
            fleet.extend(_place(sensor_type, sub, prefix, per_subdistrict[sub.code], seed))
    return fleet


def _place(
    sensor_type: SensorType, sub: Subdistrict, prefix: str, count: int, seed: int
) -> list[SimSensor]:
    if count == 0:
        return []
    rng = random.Random(f"{seed}:{sensor_type.name}:{sub.code}")
    varied = [
        (name, metric, metric.simulator)
        for name, metric in sensor_type.metrics.items()
        if metric.simulator is not None and metric.kind is not MetricKind.STATE
    ]
    sensors: list[SimSensor] = []
    for n in range(1, count + 1):
        # Fixed draw order per sensor, so sensor n is the same whatever the count.
        lat, lon = _position(rng, sub)
        offsets = {name: _offset(rng, metric, sim) for name, metric, sim in varied}
        sensors.append(
            SimSensor(
                id=f"{prefix}{n:04d}",
                sensor_type=sensor_type,
                subdistrict=sub.code,
                lat=lat,
                lon=lon,
                offsets=offsets,
                phase=rng.random(),
            )
        )
    return sensors


def _position(rng: random.Random, sub: Subdistrict) -> tuple[float, float]:
    """(lat, lon), rounded as stored, inside the subdistrict's polygon (shared edges included)."""
    area: Area = sub.area
    min_lon, min_lat, max_lon, max_lat = area.bounds
    for _ in range(_MAX_POSITION_DRAWS):
        lat = round(rng.uniform(min_lat, max_lat), 6)
        lon = round(rng.uniform(min_lon, max_lon), 6)
        if shapely.intersects_xy(area, lon, lat):
            return lat, lon
    return sub.lat, sub.lon


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
