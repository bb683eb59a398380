"""A database made by the release before geography files (migrations up to 0010, subdistricts
stored by their position in a Python list) moves to subdistricts stored by code without
relabelling anything, even when the geography file lists them in another order."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, load_geography
from schemas.inventory import Inventory
from schemas.registry import Registry
from storage.backend import Backend, BackendPreference
from storage.catalog import sync_inventory, upsert_sensor_type
from storage.migrate import MIGRATIONS_DIR, migrate
from storage.partitions import ensure_partitions_ahead
from storage.policy import StoragePolicy
from storage.setup import prepare_database
from tests.harness import ScratchDatabase

LAST_OLD_VERSION = 10
OLD_DOMAINS = {"buildings", "water", "power", "parking"}
# The previous release's schemas/districts.py order: id = position + 1.
OLD_ORDER = (
    "dinghai_road",
    "pingliang_road",
    "jiangpu_road",
    "daqiao",
    "sipin_road",
    "kongjiang_road",
    "changbai_xincun",
    "yanji_xincun",
    "wujiaochang",
    "changhai_road",
    "yinhang",
    "xinjiangwancheng",
)


def _old_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "old-migrations"
    folder.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) <= LAST_OLD_VERSION:
            shutil.copy(path, folder / path.name)
    return folder


async def _old_release_database(
    conn: asyncpg.Connection, backend: Backend, tmp_path: Path, registry: Registry, now: datetime
) -> None:
    await migrate(conn, BackendPreference(backend.value), _old_migrations(tmp_path))
    if backend is Backend.POSTGRES:
        # From yesterday: `now` is a whole hour, so in the day's first hour the readings a few
        # minutes before it fall on the previous day.
        await ensure_partitions_ahead(conn, now - timedelta(days=1), 3)
    # the old sync: subdistricts by position
    await conn.executemany(
        "INSERT INTO subdistricts (id, code, name_zh, name_en, lat, lon) "
        "VALUES ($1, $2, $2, $2, 31.3, 121.5)",
        [(i, code) for i, code in enumerate(OLD_ORDER, start=1)],
    )
    for sensor_type in registry:
        if sensor_type.domain in OLD_DOMAINS:  # that release knew no others
            await upsert_sensor_type(conn, sensor_type)


async def test_an_old_database_keeps_every_sensor_reading_and_alert_in_place(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    registry: Registry,
    inventory: Inventory,
    now: datetime,
    tmp_path: Path,
) -> None:
    await _old_release_database(conn, empty_database.backend, tmp_path, registry, now)
    # That release's sensors: types of the domains it knew.
    inventory = replace(
        inventory,
        sensors={
            sensor_id: record
            for sensor_id, record in inventory.sensors.items()
            if registry.types[record.type].domain in OLD_DOMAINS
        },
    )
    await sync_inventory(conn, inventory)
    await conn.execute(
        "INSERT INTO readings (ts, sensor_id, metric_id, value) "
        "SELECT $1::timestamptz - make_interval(mins => n), s.id, m.id, s.id * 1000 + n "
        "FROM sensors s JOIN metrics m ON m.sensor_type_id = s.sensor_type_id, "
        "generate_series(1, 3) AS n",
        now,
    )
    await conn.execute(
        "INSERT INTO alerts (fingerprint, rule_id, subject_kind, subject_id, domain, subdistrict, "
        "phase, grade) VALUES ('fp-1', 'r', 'subdistrict', 'yinhang', 'water', 'yinhang', "
        "'firing', 'red')"
    )
    where = (
        "SELECT s.external_id, d.id, d.code FROM sensors s "
        "JOIN subdistricts d ON d.id = s.subdistrict_id ORDER BY 1"
    )
    readings = (
        "SELECT s.external_id, d.code, count(*) AS n, sum(r.value) AS total FROM readings r "
        "JOIN sensors s ON s.id = r.sensor_id JOIN subdistricts d ON d.id = s.subdistrict_id "
        "GROUP BY 1, 2 ORDER BY 1"
    )
    before = [tuple(r) for r in await conn.fetch(where)]
    readings_before = [tuple(r) for r in await conn.fetch(readings)]
    assert len(before) == len(inventory)
    assert len(readings_before) == len(inventory)

    # The new release, with the subdistricts in reverse order and a second district
    document = json.loads(DEFAULT_GEOGRAPHY.read_text(encoding="utf-8"))
    document["features"].reverse()
    reordered = tmp_path / "reordered.geojson"
    reordered.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    geography = load_geography([GEOGRAPHY_DIR / "examples" / "hongkou.geojson", reordered])
    prepared = await prepare_database(
        conn,
        preference=BackendPreference(empty_database.backend.value),
        policy=StoragePolicy(),
        registry=registry,
        geography=geography,
        inventory=inventory,
        now=now + timedelta(minutes=1),
    )
    assert "0012_geography.sql" in prepared.migrations_applied

    assert [tuple(r) for r in await conn.fetch(where)] == before
    assert [tuple(r) for r in await conn.fetch(readings)] == readings_before
    alert = await conn.fetchrow(
        "SELECT a.subject_id, d.id FROM alerts a JOIN subdistricts d ON d.code = a.subdistrict"
    )
    assert tuple(alert) == ("yinhang", OLD_ORDER.index("yinhang") + 1)
    # the old rows keep their ids, now with the file's names and their district; the new
    # district's subdistricts take fresh ids after them
    rows = await conn.fetch(
        "SELECT d.id, d.code, d.name_zh, x.code AS district, x.time_zone FROM subdistricts d "
        "JOIN districts x ON x.id = d.district_id ORDER BY d.id"
    )
    assert [r["code"] for r in rows[:12]] == list(OLD_ORDER)
    assert [r["id"] for r in rows] == list(range(1, 21))
    assert {r["district"] for r in rows[:12]} == {"yangpu"}
    assert [r["code"] for r in rows[12:]] == list(geography.districts["hongkou"].subdistricts)
    assert rows[0]["name_zh"] == "定海路街道"
    assert {r["time_zone"] for r in rows} == {"Asia/Shanghai"}
    districts = await conn.fetch("SELECT code, name_zh FROM districts ORDER BY id")
    assert [tuple(r) for r in districts] == [("yangpu", "杨浦区"), ("hongkou", "虹口区")]


async def test_a_new_database_numbers_subdistricts_once_and_keeps_them(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    registry: Registry,
    now: datetime,
    tmp_path: Path,
) -> None:
    async def prepare(paths: list[Path]) -> dict[str, int]:
        await prepare_database(
            conn,
            preference=BackendPreference(empty_database.backend.value),
            policy=StoragePolicy(),
            registry=registry,
            geography=load_geography(paths),
            inventory=None,
            now=now,
        )
        return {r["code"]: r["id"] for r in await conn.fetch("SELECT id, code FROM subdistricts")}

    first = await prepare([DEFAULT_GEOGRAPHY])
    assert sorted(first.values()) == list(range(1, 13))
    hongkou = GEOGRAPHY_DIR / "examples" / "hongkou.geojson"
    for _ in range(3):  # re-syncs neither renumber nor use up ids
        again = await prepare([hongkou, DEFAULT_GEOGRAPHY])
    assert {code: again[code] for code in first} == first
    assert sorted(again.values()) == list(range(1, 21))
