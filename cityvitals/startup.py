"""Start-up steps shared by every service: load the vocabulary, prepare the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from cityvitals.settings import Settings
from ingest.retrying import until_done
from schemas.inventory import Inventory, load_inventory
from schemas.registry import Registry, load_registry
from storage.backend import recorded_backend
from storage.errors import BackendError, DatabaseUnavailable, translate
from storage.maintenance import Maintenance
from storage.pool import create_pool, redact_dsn
from storage.setup import PreparedDatabase, prepare_database

log = logging.getLogger(__name__)


def load_vocabulary(settings: Settings) -> tuple[Registry, Inventory | None]:
    registry = load_registry(settings.sensor_types_dir)
    inventory = (
        load_inventory(settings.inventory_path, registry) if settings.inventory_path else None
    )
    return registry, inventory


async def prepare(settings: Settings, now: datetime | None = None) -> PreparedDatabase:
    registry, inventory = load_vocabulary(settings)
    async with translate(f"connecting to {redact_dsn(settings.database_url)}"):
        conn = await asyncpg.connect(settings.database_url)
    try:
        return await prepare_database(
            conn,
            preference=settings.storage.backend,
            policy=settings.storage.policy(),
            registry=registry,
            inventory=inventory,
            now=now or datetime.now(UTC),
        )
    finally:
        await conn.close()


async def prepare_when_available(
    settings: Settings, *, max_backoff_s: float = 10.0
) -> PreparedDatabase:
    """`prepare`, waiting for the database to come up (services may start before it)."""
    return await until_done(
        lambda: prepare(settings),
        what="preparing the database",
        retry_on=DatabaseUnavailable,
        log=log,
        first_wait_s=0.5,
        max_wait_s=max_backoff_s,
    )


async def run_maintenance(settings: Settings, *, once: bool) -> None:
    pool = await create_pool(settings.database_url, max_size=2, application_name="cityvitals-maint")
    try:
        async with pool.acquire() as conn:
            backend = await recorded_backend(conn)
        if backend is None:
            raise BackendError("the database is not migrated yet: run `cityvitals db migrate`")
        maintenance = Maintenance(pool, backend, settings.storage.policy())
        if once:
            await maintenance.run_once(datetime.now(UTC))
        else:
            await maintenance.run_forever(settings.storage.maintenance_interval)
    finally:
        await pool.close()
