"""Everything a service does to the database at start, in one call, safe to run concurrently."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas.geography import Geography
from schemas.inventory import Inventory
from schemas.registry import Registry
from storage.backend import Backend, BackendPreference, recorded_backend
from storage.catalog import sync_inventory, sync_registry
from storage.errors import translate
from storage.migrate import migrate
from storage.partitions import ensure_partitions_ahead
from storage.policy import StoragePolicy
from storage.timescale import apply_timescale_policies

# One preparation at a time per database. Migrations hold their own lock, but what follows them
# is not safe side by side: two TimescaleDB replicas starting at once replace the same compression
# and retention jobs, and one fails with "tuple concurrently deleted".
_PREPARE_LOCK = 0x63_69_74_79_70_72  # "cityp"


@asynccontextmanager
async def preparing_alone(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Hold the preparation lock on `conn` (a session lock: a crashed holder releases it)."""
    async with translate("waiting for another service preparing the database"):
        await conn.execute("SELECT pg_advisory_lock($1)", _PREPARE_LOCK)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _PREPARE_LOCK)


@dataclass(frozen=True)
class PreparedDatabase:
    backend: Backend
    migrations_applied: list[str]
    sensors_synced: int


async def prepare_database(
    conn: asyncpg.Connection,
    *,
    preference: BackendPreference,
    policy: StoragePolicy,
    registry: Registry,
    geography: Geography,
    inventory: Inventory | None,
    now: datetime,
) -> PreparedDatabase:
    """Migrate, prepare time partitions or policies, and sync the registry, the geography and the
    inventory; services starting together take turns (`preparing_alone`)."""
    async with preparing_alone(conn):
        result = await migrate(conn, preference)
        async with translate("preparing storage"):
            if result.backend is Backend.POSTGRES:
                await ensure_partitions_ahead(conn, now, policy.partitions_ahead_days)
            else:
                await apply_timescale_policies(conn, policy)
            await sync_registry(conn, registry, geography)
            synced = await sync_inventory(conn, inventory) if inventory is not None else 0
    return PreparedDatabase(result.backend, result.applied, synced)


async def prepared_with(conn: asyncpg.Connection, fingerprint: str) -> Backend | None:
    """The database's backend if it was last prepared from exactly what `fingerprint` sums up
    (migrations, sensor types, inventory, storage settings), else None: prepare it again."""
    async with translate("checking how the database was prepared"):
        if not await conn.fetchval("SELECT to_regclass('cityvitals_meta') IS NOT NULL"):
            return None
        stored = await conn.fetchval("SELECT value FROM cityvitals_meta WHERE key = 'prepared'")
        if stored != fingerprint:
            return None
        return await recorded_backend(conn)


async def record_prepared(conn: asyncpg.Connection, fingerprint: str) -> None:
    async with translate("recording how the database was prepared"):
        await conn.execute(
            "INSERT INTO cityvitals_meta (key, value) VALUES ('prepared', $1) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            fingerprint,
        )
