"""One red pressure main among hundreds of green ones turns its vital-sign tile red: the overview
shows each type's worst sensor, not the district's mean (which would still read green)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.vital_signs import place_value
from schemas.registry import Registry
from schemas.sensor_type import SensorType
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.writer import ReadingWriter
from tests.grafana_dashboards.grafana_sql import expand, several
from tests.harness import ScratchDatabase

GREEN_MAINS = 400
HEALTHY, BURST = 0.35, 0.10  # MPa; red under 0.12


def colour_of(value: float, thresholds: dict[str, Any]) -> str:
    """Grafana's rule: the last step whose value the number reaches (the first has none)."""
    colour = thresholds["steps"][0]["color"]
    for step in thresholds["steps"][1:]:
        if value >= step["value"]:
            colour = step["color"]
    return str(colour)


def _field(panel: dict[str, Any], name: str) -> dict[str, Any]:
    for override in panel["fieldConfig"]["overrides"]:
        if override["matcher"]["options"] == name:
            return {p["id"]: p["value"] for p in override["properties"]}
    raise AssertionError(f"no settings for {name} in {panel['title']}")


async def _mains(pool: asyncpg.Pool, backend: Backend, now: datetime) -> None:
    """Hundreds of pressure mains across the district reporting a healthy pressure, one of
    them (in Yinhang) a burst main's."""
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO sensors (external_id, sensor_type_id, subdistrict_id, origin)
               SELECT 'test-main-' || n, t.id, d.id, 'api'
               FROM generate_series(1, $1) n
               JOIN sensor_types t ON t.name = 'water_main_pressure'
               JOIN subdistricts d ON d.id = 1 + n % (SELECT count(*) FROM subdistricts)""",
            GREEN_MAINS,
        )
        catalog = await load_catalog(conn)
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    rows = [
        (now - timedelta(seconds=30), sensor.id, metric, HEALTHY)
        for external_id, sensor in catalog.sensors.items()
        if external_id.startswith("test-main-")
    ]
    rows.append((now - timedelta(seconds=20), catalog.sensors["yp-wp-0001"].id, metric, BURST))
    await ReadingWriter(pool, backend).write(rows)


async def test_one_red_main_among_hundreds_turns_the_tile_red(
    pool: asyncpg.Pool, prepared: ScratchDatabase, registry: Registry, now: datetime
) -> None:
    await _mains(pool, prepared.backend, now)
    board = build_dashboards(registry)["en/overview.json"]
    [panel] = [p for p in board["panels"] if p["title"] == "Vital signs · Water network"]
    query = expand(
        panel["targets"][0]["rawSql"],
        now - timedelta(hours=6),
        now,
        variables={},
        interval=timedelta(minutes=1),
        timescaledb=prepared.backend is Backend.TIMESCALEDB,
    )
    async with pool.acquire() as conn:
        [row] = await conn.fetch(query)
        mean = await conn.fetchval(
            "SELECT avg(value) FROM readings r JOIN sensors s ON s.id = r.sensor_id "
            "WHERE s.external_id LIKE 'test-main-%' OR s.external_id = 'yp-wp-0001'"
        )
    pressure = _field(panel, "water_main_pressure")
    assert row["water_main_pressure"] == pytest.approx(BURST)
    assert colour_of(row["water_main_pressure"], pressure["thresholds"]) == "red"
    # What the wall showed before: the mean of 401 mains, green.
    assert colour_of(mean, pressure["thresholds"]) == "green"
    assert pressure["displayName"] == "Water-main pressure gauge · Pressure"


async def test_the_domain_board_bar_of_the_subdistrict_is_red_too(
    pool: asyncpg.Pool, prepared: ScratchDatabase, registry: Registry, now: datetime
) -> None:
    await _mains(pool, prepared.backend, now)
    board = build_dashboards(registry)["en/water.json"]
    title = "Pressure · By subdistrict, now"
    [panel] = [p for p in board["panels"] if p["title"] == title]
    codes = several(["yinhang", "wujiaochang"])
    query = expand(
        panel["targets"][0]["rawSql"],
        now - timedelta(hours=6),
        now,
        variables={"subdistrict": codes},
        interval=timedelta(minutes=1),
        timescaledb=prepared.backend is Backend.TIMESCALEDB,
    )
    async with pool.acquire() as conn:
        rows = {r["code"]: r["value"] for r in await conn.fetch(query)}
    thresholds = panel["fieldConfig"]["defaults"]["thresholds"]
    assert colour_of(rows["yinhang"], thresholds) == "red"
    assert colour_of(rows["wujiaochang"], thresholds) == "green"


def _type(registry: Registry, name: str) -> SensorType:
    return registry.types[name]


@pytest.mark.parametrize(
    ("type_name", "metric", "expected"),
    [
        ("drain_level", "water_level", "max(v)"),  # 'above': the highest
        ("onstreet_space_sensor", "battery", "min(v)"),  # 'below': the lowest
        ("onstreet_space_sensor", "occupied", "sum(v)"),  # a two-valued state: how many
        ("parking_lot_counter", "free_spaces", "sum(v)"),  # additive: the total
        ("air_quality_station", "relative_humidity", "avg(v)"),  # no thresholds: the mean
    ],
)
def test_each_metric_shows_its_worst_or_its_sum(
    registry: Registry, type_name: str, metric: str, expected: str
) -> None:
    assert place_value(_type(registry, type_name).metrics[metric], "v") == expected


def test_both_ways_bounded_metrics_pick_the_worst_graded_sensor(registry: Registry) -> None:
    pressure = _type(registry, "water_main_pressure").metrics["pressure"]
    aggregate = place_value(pressure, "v")
    assert aggregate.startswith("(array_agg(v ORDER BY CASE WHEN v >= 0.8 THEN 4")
    assert "abs(v - 0.41) DESC" in aggregate  # then the furthest from the safe band's middle


def test_the_vital_metric_is_named_in_the_yaml_else_the_first_gauge(registry: Registry) -> None:
    assert _type(registry, "onstreet_space_sensor").vital_metric() == "occupied"  # not battery
    assert _type(registry, "building_energy_meter").vital_metric() == "power_factor"  # named
    assert _type(registry, "water_flow_meter").vital_metric() == "flow"
