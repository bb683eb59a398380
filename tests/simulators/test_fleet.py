"""The simulated fleet: counts per type and subdistrict, ids, positions, offsets, inventory."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import shapely

from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, Geography, load_geography
from schemas.inventory import SENSOR_ID_PATTERN, validate_rows
from schemas.registry import SENSOR_TYPES_DIR, Registry, load_registry
from simulators.fleet import (
    abbreviations,
    build_fleet,
    fleet_counts,
    fleet_inventory,
    hotspot_warnings,
)
from simulators.model import SimSensor

ID = re.compile(r"^sim-([a-z0-9]+)-(\d{2})-(\d{4})$")


@pytest.fixture(scope="module")
def big_fleet(registry: Registry, geography: Geography) -> list[SimSensor]:
    return build_fleet(registry, geography, size=20_000, seed=11)


def test_counts_follow_per_subdistrict_and_hotspots(
    registry: Registry, geography: Geography
) -> None:
    fleet = build_fleet(registry, geography)
    built = Counter((s.type_name, s.subdistrict) for s in fleet)
    for sensor_type in registry:
        sim = sensor_type.simulator
        for district in geography:
            expected = round(sim.per_subdistrict * sim.hotspots.get(district.code, 1.0))
            assert built[sensor_type.name, district.code] == expected
    # Spot checks against the YAML: 8 pressure gauges a subdistrict, twice that in Yinhang.
    assert built["water_main_pressure", "yinhang"] == 16
    assert built["water_main_pressure", "daqiao"] == 8
    assert built["parking_lot_counter", "wujiaochang"] == 15


@pytest.mark.parametrize("size", [2_000, 20_000, 500])
def test_size_scales_every_count_by_one_factor(
    registry: Registry, geography: Geography, size: int
) -> None:
    base = fleet_counts(registry, geography)
    scaled = fleet_counts(registry, geography, size=size)
    total = sum(sum(row.values()) for row in scaled.values())
    assert 0.95 * size <= total <= 1.05 * size
    factor = size / sum(sum(row.values()) for row in base.values())
    for name, row in scaled.items():
        type_total = sum(row.values())
        assert type_total >= 1
        assert abs(type_total - factor * sum(base[name].values())) <= 1
        for code, count in row.items():
            assert abs(count - factor * base[name][code]) <= 2


def test_fleet_of_2000(registry: Registry) -> None:
    fleet = build_fleet(registry, size=2_000)
    assert 1_900 <= len(fleet) <= 2_100
    assert {s.type_name for s in fleet} == set(registry.types)


def test_tiny_fleet_keeps_one_sensor_of_every_type(registry: Registry) -> None:
    fleet = build_fleet(registry, size=20)
    assert {s.type_name for s in fleet} == set(registry.types)
    assert len(fleet) == max(20, len(registry))
    with pytest.raises(ValueError, match="at least 1"):
        build_fleet(registry, size=0)


def test_big_fleet_ids_are_unique_valid_and_readable(
    big_fleet: list[SimSensor], geography: Geography
) -> None:
    assert len(big_fleet) == 20_000
    ids = [s.id for s in big_fleet]
    assert len(set(ids)) == len(ids)
    short = abbreviations({s.type_name for s in big_fleet})
    for sensor in big_fleet:
        assert re.fullmatch(SENSOR_ID_PATTERN, sensor.id)
        match = ID.fullmatch(sensor.id)
        assert match is not None, sensor.id
        assert match[1] == short[sensor.type_name]
        assert list(geography)[int(match[2]) - 1].code == sensor.subdistrict
    assert short["water_main_pressure"] == "wmp"


def test_positions_lie_inside_the_subdistrict_polygon(
    big_fleet: list[SimSensor], geography: Geography
) -> None:
    for sensor in big_fleet:
        area = geography.subdistricts[sensor.subdistrict].area
        assert shapely.intersects_xy(area, sensor.lon, sensor.lat), sensor
    assert len({(s.lat, s.lon) for s in big_fleet}) > 0.99 * len(big_fleet)
    # Spread over the polygon, not piled on one point: each subdistrict's sensors span most of
    # its bounding box.
    for sub in geography:
        points = [(s.lon, s.lat) for s in big_fleet if s.subdistrict == sub.code]
        min_lon, _, max_lon, _ = sub.area.bounds
        spread = max(p[0] for p in points) - min(p[0] for p in points)
        assert spread > 0.5 * (max_lon - min_lon), sub.code


def test_every_configured_district_gets_sensors(registry: Registry) -> None:
    both = load_geography([DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR / "examples" / "hongkou.geojson"])
    fleet = build_fleet(registry, both, size=3_000, seed=5)
    per_district = Counter(both.subdistricts[s.subdistrict].district for s in fleet)
    assert set(per_district) == {"yangpu", "hongkou"}
    assert {s.subdistrict for s in fleet} == set(both.subdistricts)
    for sensor in fleet:
        assert both.locate(sensor.lat, sensor.lon) == both.subdistricts[sensor.subdistrict]


def test_hotspots_outside_the_geography_are_reported_and_ignored(registry: Registry) -> None:
    hongkou = load_geography([GEOGRAPHY_DIR / "examples" / "hongkou.geojson"])
    warnings = hotspot_warnings(registry, hongkou)
    pressure = [w for w in warnings if w.key == "simulator.hotspots.yinhang"]
    assert any(w.file.endswith("water_main_pressure.yaml") for w in pressure), warnings
    assert "虹口区" in pressure[0].message
    assert "ignores" in pressure[0].message
    counts = fleet_counts(registry, hongkou)
    assert set(counts["water_main_pressure"]) == set(hongkou.subdistricts)
    assert set(counts["water_main_pressure"].values()) == {8}  # no Yangpu hotspot applied
    assert hotspot_warnings(registry, load_geography()) == []


def test_a_hotspot_typo_gets_a_hint(tmp_path: Path, geography: Geography) -> None:
    shutil.copytree(SENSOR_TYPES_DIR, tmp_path / "types")
    path = tmp_path / "types" / "water_main_pressure.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{yinhang: 2.0}", "{yinhnag: 2.0}"),
        encoding="utf-8",
    )
    [warning] = hotspot_warnings(load_registry(tmp_path / "types"), geography)
    assert warning.file.endswith("water_main_pressure.yaml")
    assert warning.key == "simulator.hotspots.yinhnag"
    assert "did you mean 'yinhang'?" in warning.message


def test_offsets_and_phases_vary_but_keep_baselines_in_range(big_fleet: list[SimSensor]) -> None:
    for sensor in big_fleet[::7]:
        assert 0.0 <= sensor.phase < 1.0
        for name, offset in sensor.offsets.items():
            metric = sensor.sensor_type.metric(name)
            assert metric.simulator is not None
            level = metric.simulator.baseline + offset
            assert metric.range.min <= level <= metric.range.max
    pressure = {s.offsets["pressure"] for s in big_fleet if s.type_name == "water_main_pressure"}
    assert len(pressure) > 100
    assert max(abs(o) for o in pressure) < 0.05  # MPa: sensors differ, none looks broken


def test_same_seed_same_fleet_other_seed_other_fleet(registry: Registry) -> None:
    # Left out, the geography is the shipped default.
    first = build_fleet(registry, size=3_000, seed=1)
    assert build_fleet(registry, size=3_000, seed=1) == first
    other = build_fleet(registry, size=3_000, seed=2)
    assert [s.id for s in other] == [s.id for s in first]  # counts do not depend on the seed
    assert [(s.lat, s.lon, s.phase) for s in other] != [(s.lat, s.lon, s.phase) for s in first]


def test_a_bigger_fleet_keeps_the_sensors_of_a_smaller_one(registry: Registry) -> None:
    small = {s.id: s for s in build_fleet(registry, seed=3)}
    big = {s.id: s for s in build_fleet(registry, size=5_000, seed=3)}
    assert small.keys() <= big.keys()
    assert all(big[i] == sensor for i, sensor in small.items())


def test_abbreviations_are_unique_and_stable() -> None:
    names = ["water_main_pressure", "water_meter_pipe", "wmp", "w_m_p", "a_b", "ab"]
    short = abbreviations(names)
    assert len(set(short.values())) == len(names)
    assert abbreviations(reversed(names)) == short
    assert all(re.fullmatch(r"[a-z0-9]{1,12}", s) for s in short.values())
    assert short["w_m_p"] == "wmp"  # first in sorted order keeps the plain initials
    assert short["water_main_pressure"] == "wmpr"
    long = "_".join(["x"] * 30)
    assert len(abbreviations([long, "x" * 40])[long]) <= 12


def test_inventory_registers_every_sensor(
    registry: Registry, geography: Geography, big_fleet: list[SimSensor]
) -> None:
    inventory = fleet_inventory(big_fleet)
    assert len(inventory) == len(big_fleet)
    rows = [record.model_dump() for record in inventory]
    assert validate_rows(rows, registry, geography, "simulated").sensors == inventory.sensors
    record = inventory.get("sim-wmp-11-0001")
    assert record is not None
    assert record.type == "water_main_pressure"
    assert record.subdistrict == "yinhang"
    assert record.name is not None
    assert re.fullmatch(r"模拟 供水管网压力计 #\d+", record.name)
    names = [r.name for r in inventory if r.type == "water_main_pressure"]
    assert len(set(names)) == len(names)
    with pytest.raises(ValueError, match="duplicate"):
        fleet_inventory([*big_fleet[:3], big_fleet[0]])
