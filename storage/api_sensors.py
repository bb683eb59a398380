"""Sensor queries for the HTTP API: filtered listings, one sensor, its status history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from storage.catalog import SensorOrigin
from storage.online import online_join, online_window

# Columns of a sensor as the API shows it; `key` is the internal id readings refer to. `online`
# is the effective state at $1 (storage/online.py, $2 its window), not only the status topic's.
_SELECT = f"""
SELECT s.id AS key, s.external_id AS id, t.name AS type, t.domain, d.code AS subdistrict,
       s.lat, s.lon, s.name, s.origin, o.online, s.status_changed_at, s.created_at, s.updated_at
FROM sensors s
JOIN sensor_types t ON t.id = s.sensor_type_id
JOIN subdistricts d ON d.id = s.subdistrict_id
{online_join("$1::timestamptz", "$2::interval")}
"""
_FILTERS = """
WHERE ($3::text IS NULL OR t.domain = $3) AND ($4::text IS NULL OR d.code = $4)
  AND ($5::text IS NULL OR t.name = $5)
  AND ($6::text IS NULL OR ($6 = 'online' AND o.online) OR ($6 = 'offline' AND NOT o.online)
       OR ($6 = 'unknown' AND o.online IS NULL))
  AND ($7::text IS NULL OR s.external_id > $7)
ORDER BY s.external_id
LIMIT $8
"""


async def list_sensors(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    domain: str | None = None,
    subdistrict: str | None = None,
    type_name: str | None = None,
    status: str | None = None,  # "online", "offline" or "unknown" (storage/online.py)
    after: str | None = None,  # keyset: external ids after this one
    limit: int = 100,
) -> list[dict[str, Any]]:
    window = await online_window(conn)
    rows = await conn.fetch(
        _SELECT + _FILTERS, now, window, domain, subdistrict, type_name, status, after, limit
    )
    return [dict(r) for r in rows]


async def get_sensor(
    conn: asyncpg.Connection, external_id: str, now: datetime
) -> dict[str, Any] | None:
    window = await online_window(conn)
    row = await conn.fetchrow(_SELECT + "WHERE s.external_id = $3", now, window, external_id)
    return None if row is None else dict(row)


async def status_history(
    conn: asyncpg.Connection, sensor_key: int, limit: int
) -> list[dict[str, Any]]:
    """The newest `limit` online/offline changes, newest first."""
    rows = await conn.fetch(
        "SELECT ts, online FROM sensor_status WHERE sensor_id = $1 ORDER BY ts DESC LIMIT $2",
        sensor_key,
        limit,
    )
    return [dict(r) for r in rows]


_UPSERT = """
INSERT INTO sensors (external_id, sensor_type_id, subdistrict_id, lat, lon, name, origin)
SELECT $1, t.id, d.id, coalesce($4, d.lat), coalesce($5, d.lon), $6, $7
FROM sensor_types t, subdistricts d WHERE t.name = $2 AND d.code = $3
ON CONFLICT (external_id) DO UPDATE SET sensor_type_id = excluded.sensor_type_id,
    subdistrict_id = excluded.subdistrict_id, lat = excluded.lat, lon = excluded.lon,
    name = excluded.name, origin = excluded.origin, updated_at = now()
RETURNING (xmax = 0) AS created
"""


async def upsert_api_sensor(
    conn: asyncpg.Connection,
    external_id: str,
    type_name: str,
    subdistrict: str,
    *,
    lat: float | None,
    lon: float | None,
    name: str | None,
) -> bool | None:
    """Register or update a sensor (origin 'api'); True if created, None if the type or the
    subdistrict is not stored. Without coordinates it is placed at its subdistrict's map point
    (the caller has placed it: schemas/placement.py)."""
    created: bool | None = await conn.fetchval(
        _UPSERT,
        external_id,
        type_name,
        subdistrict,
        lat,
        lon,
        name,
        SensorOrigin.API.value,
    )
    return created
