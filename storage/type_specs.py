"""Sensor types as stored in `sensor_types.spec`: the registry as running services see it.

Files in schemas/sensor_types are synced in at start (origin 'file'); types posted to the gateway
are stored here only (origin 'api'). Services notice a change by `types_version`: every upsert
bumps `updated_at`, so (max(updated_at), count) moves whenever a type is added or changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg
from pydantic import ValidationError

from schemas.registry import Registry
from schemas.sensor_type import SensorType
from storage.catalog import upsert_sensor_type
from storage.domains import load_stored_domains

log = logging.getLogger(__name__)

TypesVersion = tuple[datetime | None, int]


class TypeOrigin(StrEnum):
    FILE = "file"
    API = "api"


class SaveOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    FILE_OWNED = "file_owned"  # defined by a file: a restart would put the file's version back


@dataclass(frozen=True)
class StoredType:
    sensor_type: SensorType
    origin: TypeOrigin
    updated_at: datetime


async def types_version(conn: asyncpg.Connection) -> TypesVersion:
    row = await conn.fetchrow("SELECT max(updated_at) AS at, count(*) AS n FROM sensor_types")
    return row["at"], row["n"]


def _spec(raw: Any) -> dict[str, Any]:
    return dict(json.loads(raw) if isinstance(raw, str) else raw)


async def load_stored_types(conn: asyncpg.Connection) -> dict[str, StoredType]:
    """Every stored type by name. A spec the current model no longer accepts is skipped with a
    warning (it was valid when stored; the service keeps running on the others)."""
    rows = await conn.fetch("SELECT name, spec, origin, updated_at FROM sensor_types ORDER BY name")
    types: dict[str, StoredType] = {}
    for row in rows:
        try:
            sensor_type = SensorType.model_validate(_spec(row["spec"]))
        except ValidationError as error:
            log.warning("stored sensor type %s no longer validates: %s", row["name"], error)
            continue
        types[row["name"]] = StoredType(sensor_type, TypeOrigin(row["origin"]), row["updated_at"])
    return types


async def load_stored_registry(conn: asyncpg.Connection) -> Registry:
    stored = await load_stored_types(conn)
    return Registry(
        types={name: s.sensor_type for name, s in stored.items()},
        sources={name: f"database ({s.origin.value})" for name, s in stored.items()},
        domains=await load_stored_domains(conn),
    )


async def save_api_type(conn: asyncpg.Connection, sensor_type: SensorType) -> SaveOutcome:
    """Create or update a type posted over the API; a type owned by a file is left alone."""
    async with conn.transaction():
        origin = await conn.fetchval(
            "SELECT origin FROM sensor_types WHERE name = $1 FOR UPDATE", sensor_type.name
        )
        if origin == TypeOrigin.FILE.value:
            return SaveOutcome.FILE_OWNED
        type_id = await upsert_sensor_type(conn, sensor_type)
        await conn.execute(
            "UPDATE sensor_types SET origin = $2 WHERE id = $1", type_id, TypeOrigin.API.value
        )
    return SaveOutcome.CREATED if origin is None else SaveOutcome.UPDATED
