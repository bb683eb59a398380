"""Start-up steps shared by every service: load the vocabulary, prepare the database."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

import asyncpg

from cityvitals.settings import Settings
from ingest.retrying import until_done
from schemas.domains import domains_file
from schemas.geography import Geography, load_geography
from schemas.inventory import Inventory, load_inventory
from schemas.registry import Registry, load_registry
from storage.backend import recorded_backend
from storage.errors import BackendError, DatabaseUnavailable, translate
from storage.migrate import MIGRATIONS_DIR
from storage.pool import create_pool, redact_dsn
from storage.setup import (
    PreparedDatabase,
    prepare_database,
    prepared_with,
    preparing_alone,
    record_prepared,
)

log = logging.getLogger(__name__)


def load_vocabulary(settings: Settings) -> tuple[Registry, Geography, Inventory | None]:
    registry = load_registry(settings.sensor_types_dir)
    geography = load_geography(settings.geography)
    inventory = (
        load_inventory(settings.inventory_path, registry, geography)
        if settings.inventory_path
        else None
    )
    for warning in inventory.warnings if inventory is not None else ():
        log.warning("inventory: %s", warning)
    return registry, geography, inventory


def setup_fingerprint(settings: Settings) -> str:
    """A digest of everything `prepare` puts into the database: the migrations, the sensor-type
    files, the geography, the inventory and the storage settings. Hashing them takes a
    millisecond; parsing and syncing them takes a restarted service most of its start-up."""
    digest = hashlib.sha256(settings.storage.model_dump_json().encode())
    files = sorted(MIGRATIONS_DIR.glob("*.sql")) + sorted(settings.sensor_types_dir.rglob("*.y*ml"))
    files.append(domains_file(settings.sensor_types_dir))  # the shipped one if the folder has none
    files.extend(settings.geography)
    if settings.inventory_path is not None:
        files.append(settings.inventory_path)
    for path in files:
        digest.update(f"\0{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


async def prepare(
    settings: Settings, now: datetime | None = None, *, unless_done: bool = False
) -> PreparedDatabase:
    """Migrate and sync the vocabulary. `unless_done`: skip it all when the database was last
    prepared from the very same files and settings (a service restarting)."""
    fingerprint = setup_fingerprint(settings)
    async with translate(f"connecting to {redact_dsn(settings.database_url)}"):
        conn = await asyncpg.connect(settings.database_url)
    try:
        if unless_done and (backend := await prepared_with(conn, fingerprint)) is not None:
            return PreparedDatabase(backend, [], 0)
        registry, geography, inventory = load_vocabulary(settings)
        async with preparing_alone(conn):
            # A replica started at the same moment may have just done it all: ask again.
            if unless_done and (backend := await prepared_with(conn, fingerprint)) is not None:
                return PreparedDatabase(backend, [], 0)
            prepared = await prepare_database(
                conn,
                preference=settings.storage.backend,
                policy=settings.storage.policy(),
                registry=registry,
                geography=geography,
                inventory=inventory,
                now=now or datetime.now(UTC),
            )
            await record_prepared(conn, fingerprint)
        return prepared
    finally:
        await conn.close()


async def prepare_when_available(
    settings: Settings, *, max_backoff_s: float = 10.0
) -> PreparedDatabase:
    """`prepare` at a service's start, waiting for the database to come up (services may start
    before it), and skipped when nothing changed since the last service prepared it."""
    return await until_done(
        lambda: prepare(settings, unless_done=True),
        what="preparing the database",
        retry_on=DatabaseUnavailable,
        log=log,
        first_wait_s=0.5,
        max_wait_s=max_backoff_s,
    )


async def run_maintenance(settings: Settings, *, once: bool) -> None:
    from storage.maintenance import Maintenance  # not at the top: services start without it

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
