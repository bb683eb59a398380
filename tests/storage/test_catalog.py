"""Registry and inventory sync: stable ids, upserts, auto-registration of unknown sensors."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from schemas.geography import Geography
from schemas.inventory import Inventory, SensorRecord
from schemas.registry import Registry
from storage.catalog import (
    SensorOrigin,
    load_catalog,
    register_sensor,
    sync_inventory,
    sync_registry,
)
from storage.dead_letters import DeadLetter, dead_letter_counts, record_dead_letters
from storage.errors import WriteRejected
from tests.harness import ScratchDatabase


async def test_catalog_holds_every_type_metric_and_inventory_sensor(
    prepared: ScratchDatabase, conn: asyncpg.Connection, registry: Registry, inventory: Inventory
) -> None:
    catalog = await load_catalog(conn)
    assert set(catalog.type_ids) == set(registry.types)
    assert len(catalog.metric_ids) == sum(len(t.metrics) for t in registry)
    assert set(catalog.sensors) == set(inventory.sensors)
    assert len(catalog.subdistrict_ids) == 12
    ref = catalog.sensors["yp-wp-0001"]
    assert ref.type_name == "water_main_pressure"


async def test_resync_keeps_ids_stable(
    prepared: ScratchDatabase, conn: asyncpg.Connection, registry: Registry, geography: Geography
) -> None:
    before = await load_catalog(conn)
    await sync_registry(conn, registry, geography)
    after = await load_catalog(conn)
    assert after.metric_ids == before.metric_ids
    assert after.type_ids == before.type_ids


async def test_auto_registration_places_the_sensor_in_its_subdistrict(
    prepared: ScratchDatabase, conn: asyncpg.Connection, geography: Geography
) -> None:
    catalog = await load_catalog(conn)
    ref = await register_sensor(conn, catalog, "new-lot-7", "parking_lot_counter", "wujiaochang")
    assert catalog.sensor("new-lot-7") == ref
    row = await conn.fetchrow(
        "SELECT origin, lat, lon FROM sensors WHERE external_id = 'new-lot-7'"
    )
    assert row is not None
    assert row["origin"] == SensorOrigin.AUTO_REGISTER.value
    home = geography.subdistricts["wujiaochang"]  # its map point, inside its polygon
    assert (row["lat"], row["lon"]) == (home.lat, home.lon)
    # A second worker registering the same sensor gets the same id.
    other = await load_catalog(conn)
    other.sensors.pop("new-lot-7")
    again = await register_sensor(conn, other, "new-lot-7", "parking_lot_counter", "wujiaochang")
    assert again.id == ref.id


async def test_auto_registration_rejects_unknown_type_and_subdistrict(
    prepared: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    catalog = await load_catalog(conn)
    with pytest.raises(WriteRejected, match="type: unknown sensor type 'gas_meter'"):
        await register_sensor(conn, catalog, "x", "gas_meter", "wujiaochang")
    with pytest.raises(WriteRejected, match="subdistrict: unknown subdistrict 'pudong'"):
        await register_sensor(conn, catalog, "x", "parking_lot_counter", "pudong")


async def test_dead_letters_keep_raw_bytes_and_reason(
    prepared: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    received = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    letters = [
        DeadLetter(
            "mqtt",
            "city/v1/water/yinhang/x/telemetry",
            b"\xff\xfe",
            "bad_utf8",
            None,
            "payload is not UTF-8",
            received,
        ),
        DeadLetter(
            "mqtt",
            "city/v1/water/yinhang/x/telemetry",
            b"{",
            "bad_json",
            None,
            "payload is not JSON",
            received,
        ),
        DeadLetter(
            "http",
            None,
            b'{"metrics": {"p": 9}}',
            "bad_json",
            "metrics.p",
            "unknown metric",
            received,
        ),
    ]
    assert await record_dead_letters(conn, letters) == 3
    assert await dead_letter_counts(conn) == {"bad_utf8": 1, "bad_json": 2}
    assert (
        await conn.fetchval("SELECT payload FROM dead_letters WHERE reason = 'bad_utf8'")
        == b"\xff\xfe"
    )


async def test_an_inventory_sensor_the_database_cannot_place_is_refused_by_name(
    prepared: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    """An inventory synced by a tool of its own (not loaded from the files, which check types
    and subdistricts) must not lose a sensor silently."""
    at = {"lat": 31.28, "lon": 121.52}
    unknown_type = SensorRecord(id="x-0001", type="river_gauge", subdistrict="yinhang", **at)
    with pytest.raises(WriteRejected, match="sensors: x-0001: unknown sensor type 'river_gauge'"):
        await sync_inventory(conn, Inventory({"x-0001": unknown_type}))
    elsewhere = SensorRecord(id="x-0002", type="drain_level", subdistrict="tilanqiao", **at)
    with pytest.raises(WriteRejected, match="sensors: x-0002: unknown subdistrict 'tilanqiao'"):
        await sync_inventory(conn, Inventory({"x-0002": elsewhere}))
    assert await conn.fetchval("SELECT count(*) FROM sensors WHERE external_id LIKE 'x-%'") == 0
