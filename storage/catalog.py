"""Dictionary tables: districts, subdistricts, sensor types, metrics and sensors, synced from
the vocabulary.

The ingest works with small integer ids (4 + 2 bytes a reading instead of two strings); the
`Catalog` is the in-memory map from the names devices use to those ids, loaded once at start and
extended when a sensor is auto-registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import asyncpg

from schemas.geography import Geography
from schemas.inventory import Inventory
from schemas.registry import Registry
from schemas.sensor_type import SensorType
from storage.domains import sync_domains
from storage.errors import WriteRejected


class SensorOrigin(StrEnum):
    INVENTORY = "inventory"
    AUTO_REGISTER = "auto_register"
    API = "api"


@dataclass(frozen=True)
class SensorRef:
    id: int
    external_id: str
    type_name: str
    subdistrict: str


@dataclass
class Catalog:
    sensors: dict[str, SensorRef] = field(default_factory=dict)
    metric_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, metric) -> id
    type_ids: dict[str, int] = field(default_factory=dict)
    subdistrict_ids: dict[str, int] = field(default_factory=dict)

    def sensor(self, external_id: str) -> SensorRef | None:
        return self.sensors.get(external_id)

    def metric_id(self, type_name: str, metric: str) -> int | None:
        return self.metric_ids.get((type_name, metric))


# Rows are matched by code, never by position: a subdistrict keeps its id (and so its sensors)
# however the geography files are ordered. Existing rows are updated first and only missing codes
# inserted, because an INSERT .. ON CONFLICT takes an identity value even when it ends in an
# update, and smallint ids would run out after some thousands of restarts. ON CONFLICT stays for
# safety; preparing is serialised by storage.setup.preparing_alone anyway.
_UPDATE_DISTRICT = """
UPDATE districts SET name_zh = $2, name_en = $3, time_zone = $4 WHERE code = $1
"""
_INSERT_DISTRICT = """
INSERT INTO districts (code, name_zh, name_en, time_zone)
SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM districts WHERE code = $1)
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
    time_zone = excluded.time_zone
"""
_UPDATE_SUBDISTRICT = """
UPDATE subdistricts SET name_zh = $2, name_en = $3, lat = $4, lon = $5,
    district_id = (SELECT id FROM districts WHERE code = $6)
WHERE code = $1
"""
_INSERT_SUBDISTRICT = """
INSERT INTO subdistricts (code, name_zh, name_en, lat, lon, district_id)
SELECT $1, $2, $3, $4, $5, (SELECT id FROM districts WHERE code = $6)
WHERE NOT EXISTS (SELECT 1 FROM subdistricts WHERE code = $1)
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
    lat = excluded.lat, lon = excluded.lon, district_id = excluded.district_id
"""


async def sync_geography(conn: asyncpg.Connection, geography: Geography) -> None:
    """Upsert the configured districts and subdistricts by code. Subdistricts no longer
    configured stay (sensors and readings refer to them)."""
    districts = [(d.code, d.zh, d.en, d.time_zone) for d in geography.districts.values()]
    subdistricts = [(s.code, s.zh, s.en, s.lat, s.lon, s.district) for s in geography]
    async with conn.transaction():
        await conn.executemany(_UPDATE_DISTRICT, districts)
        await conn.executemany(_INSERT_DISTRICT, districts)
        await conn.executemany(_UPDATE_SUBDISTRICT, subdistricts)
        await conn.executemany(_INSERT_SUBDISTRICT, subdistricts)


async def upsert_sensor_type(conn: asyncpg.Connection, sensor_type: SensorType) -> int:
    """Insert or update a type and its metrics; metrics dropped from the YAML stay (data
    may refer to them)."""
    async with conn.transaction():
        type_id: int = await conn.fetchval(
            "INSERT INTO sensor_types (name, domain, name_zh, name_en, reporting_interval_s, spec) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (name) DO UPDATE SET "
            "domain = excluded.domain, name_zh = excluded.name_zh, name_en = excluded.name_en, "
            "reporting_interval_s = excluded.reporting_interval_s, spec = excluded.spec, "
            "updated_at = now() RETURNING id",
            sensor_type.name,
            sensor_type.domain,
            sensor_type.display_name.zh,
            sensor_type.display_name.en,
            sensor_type.reporting_interval,
            json.dumps(sensor_type.model_dump(mode="json"), ensure_ascii=False),
        )
        await conn.executemany(
            "INSERT INTO metrics (sensor_type_id, name, name_zh, name_en, unit, kind, range_min, "
            "range_max, value_precision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "ON CONFLICT (sensor_type_id, name) DO UPDATE SET name_zh = excluded.name_zh, "
            "name_en = excluded.name_en, unit = excluded.unit, kind = excluded.kind, "
            "range_min = excluded.range_min, range_max = excluded.range_max, "
            "value_precision = excluded.value_precision",
            [
                (
                    type_id,
                    name,
                    m.display_name.zh,
                    m.display_name.en,
                    m.unit,
                    m.kind.value,
                    m.range.min,
                    m.range.max,
                    m.precision,
                )
                for name, m in sensor_type.metrics.items()
            ],
        )
    return type_id


async def sync_registry(conn: asyncpg.Connection, registry: Registry, geography: Geography) -> None:
    await sync_geography(conn, geography)
    await sync_domains(conn, registry.domains)  # first: the types refer to them
    for sensor_type in registry:
        await upsert_sensor_type(conn, sensor_type)


async def sync_inventory(conn: asyncpg.Connection, inventory: Inventory) -> int:
    """Upsert every inventory sensor (the file wins over earlier auto-registration). A sensor
    whose type or subdistrict the database does not hold raises WriteRejected naming it (the
    upsert's join would otherwise skip it without a word); loading the inventory checks both
    against the files, so this guards callers that sync an inventory of their own."""
    types = {r["name"] for r in await conn.fetch("SELECT name FROM sensor_types")}
    places = {r["code"] for r in await conn.fetch("SELECT code FROM subdistricts")}
    for s in inventory:
        if s.type not in types:
            raise WriteRejected(f"sensors: {s.id}: unknown sensor type {s.type!r}")
        if s.subdistrict not in places:
            raise WriteRejected(f"sensors: {s.id}: unknown subdistrict {s.subdistrict!r}")
    rows = [
        (s.id, s.type, s.subdistrict, s.lat, s.lon, s.name, SensorOrigin.INVENTORY.value)
        for s in inventory
    ]
    await conn.executemany(_UPSERT_SENSOR, rows)
    return len(rows)


_UPSERT_SENSOR = """
INSERT INTO sensors (external_id, sensor_type_id, subdistrict_id, lat, lon, name, origin)
SELECT $1, t.id, d.id, $4, $5, $6, $7
FROM sensor_types t, subdistricts d WHERE t.name = $2 AND d.code = $3
ON CONFLICT (external_id) DO UPDATE SET sensor_type_id = excluded.sensor_type_id,
    subdistrict_id = excluded.subdistrict_id, lat = excluded.lat, lon = excluded.lon,
    name = excluded.name, origin = excluded.origin, updated_at = now()
"""


async def register_sensor(
    conn: asyncpg.Connection,
    catalog: Catalog,
    external_id: str,
    type_name: str,
    subdistrict: str,
    origin: SensorOrigin = SensorOrigin.AUTO_REGISTER,
) -> SensorRef:
    """Add a sensor not in the inventory (policy auto_register); an existing one is kept as is.
    It has no coordinates of its own: it is placed at its subdistrict's map point."""
    if type_name not in catalog.type_ids:
        raise WriteRejected(f"type: unknown sensor type {type_name!r}")
    if subdistrict not in catalog.subdistrict_ids:
        known = ", ".join(catalog.subdistrict_ids)
        raise WriteRejected(f"subdistrict: unknown subdistrict {subdistrict!r} (one of {known})")
    row = await conn.fetchrow(
        "INSERT INTO sensors (external_id, sensor_type_id, subdistrict_id, lat, lon, origin) "
        "SELECT $1, $2, d.id, d.lat, d.lon, $4 FROM subdistricts d WHERE d.id = $3 "
        "ON CONFLICT (external_id) DO NOTHING RETURNING id",
        external_id,
        catalog.type_ids[type_name],
        catalog.subdistrict_ids[subdistrict],
        origin.value,
    )
    if row is None:  # registered meanwhile by another worker: take what is stored
        refreshed = await load_catalog(conn)
        existing = refreshed.sensor(external_id)
        assert existing is not None
        catalog.sensors[external_id] = existing
        return existing
    ref = SensorRef(row["id"], external_id, type_name, subdistrict)
    catalog.sensors[external_id] = ref
    return ref


CatalogVersion = tuple[int, datetime | None]


async def catalog_version(conn: asyncpg.Connection) -> CatalogVersion:
    """Changes whenever a sensor is added, changed or removed: (count, newest updated_at)."""
    row = await conn.fetchrow("SELECT count(*) AS n, max(updated_at) AS at FROM sensors")
    return row["n"], row["at"]


async def load_catalog(conn: asyncpg.Connection) -> Catalog:
    catalog = Catalog()
    for row in await conn.fetch("SELECT id, code FROM subdistricts"):
        catalog.subdistrict_ids[row["code"]] = row["id"]
    for row in await conn.fetch("SELECT id, name FROM sensor_types"):
        catalog.type_ids[row["name"]] = row["id"]
    for row in await conn.fetch(
        "SELECT m.id, t.name AS type_name, m.name FROM metrics m "
        "JOIN sensor_types t ON t.id = m.sensor_type_id"
    ):
        catalog.metric_ids[(row["type_name"], row["name"])] = row["id"]
    for row in await conn.fetch(
        "SELECT s.id, s.external_id, t.name AS type_name, d.code FROM sensors s "
        "JOIN sensor_types t ON t.id = s.sensor_type_id "
        "JOIN subdistricts d ON d.id = s.subdistrict_id"
    ):
        catalog.sensors[row["external_id"]] = SensorRef(
            row["id"], row["external_id"], row["type_name"], row["code"]
        )
    return catalog
