"""The one path from received messages to committed rows, shared by MQTT and HTTP ingest.

`resolve` validates a batch against the registry and the catalog, auto-registering sensors and
reloading the catalog once when a sensor is unknown; `store` commits readings, dead letters and
status changes. Both raise StorageError and leave retrying to the caller: the MQTT pipeline
retries until the database is back (nothing is acknowledged meanwhile), an HTTP request fails
with 503 (nothing was confirmed, the device sends again).

Sensor types can change while services run (one posted to the gateway): every
`TYPES_CHECK_EVERY` the stored types' version is read, and when it moved the validators and the
catalog are rebuilt from `sensor_types`, so no restart is needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from ingest.resolver import Inbound, Resolved, Resolver
from schemas.telemetry import validators_for
from storage.catalog import SensorOrigin, load_catalog, register_sensor
from storage.dead_letters import record_dead_letters
from storage.pool import connection
from storage.status import record_status_changes
from storage.type_specs import TypesVersion, load_stored_registry, types_version
from storage.writer import ReadingWriter, WriteResult

log = logging.getLogger(__name__)

CATALOG_RELOAD_EVERY = timedelta(seconds=10)
TYPES_CHECK_EVERY = timedelta(seconds=5)


class Processor:
    def __init__(
        self,
        pool: asyncpg.Pool,
        writer: ReadingWriter,
        resolver: Resolver,
        *,
        now: datetime,
        catalog_reload_every: timedelta = CATALOG_RELOAD_EVERY,
        types_check_every: timedelta = TYPES_CHECK_EVERY,
    ) -> None:
        self.pool = pool
        self._writer = writer
        self.resolver = resolver
        self._catalog_reload_every = catalog_reload_every
        self._types_check_every = types_check_every
        self._catalog_loaded_at = now
        self._types_checked_at: datetime | None = None
        self._types_version: TypesVersion | None = None
        self._lock = asyncio.Lock()  # one reload at a time (HTTP requests run concurrently)

    async def resolve(self, batch: Sequence[Inbound], now: datetime) -> Resolved:
        await self.check_types_when_due(now)
        resolver = self.resolver
        resolved = resolver.resolve(batch, now)
        if resolved.to_register:
            await self._register(resolved.to_register)
            resolved.merge(resolver.resolve(resolved.waiting, now, final=True))
        if resolved.unknown:
            # A sensor added to the inventory since we loaded the catalog is not unknown.
            if now - self._catalog_loaded_at >= self._catalog_reload_every:
                await self.reload_catalog(now)
            resolved.merge(resolver.resolve(resolved.unknown, now, final=True))
        return resolved

    async def store(self, resolved: Resolved) -> WriteResult:
        """Commit dead letters and status changes, then the readings; returns after commit."""
        if resolved.dead_letters or resolved.status_changes:
            async with connection(self.pool, "storing dead letters and status") as conn:
                await record_dead_letters(conn, resolved.dead_letters)
                await record_status_changes(conn, resolved.status_changes)
        return await self._writer.write(resolved.rows)

    async def check_types_when_due(self, now: datetime) -> None:
        checked = self._types_checked_at
        if checked is None or now - checked >= self._types_check_every:
            await self.check_types(now)

    async def check_types(self, now: datetime, *, force: bool = False) -> bool:
        """Rebuild validators and catalog if the stored types changed; True if they did."""
        async with self._lock, connection(self.pool, "checking sensor types") as conn:
            version = await types_version(conn)
            self._types_checked_at = now
            if not force and version == self._types_version:
                return False
            registry = await load_stored_registry(conn)
            self.resolver.catalog = await load_catalog(conn)
            self.resolver.validators = validators_for(registry)
            self._catalog_loaded_at = now
            first, self._types_version = self._types_version is None, version
        if not first:
            log.info("sensor types changed: now %d types", len(registry))
        return True

    async def reload_catalog(self, now: datetime) -> None:
        async with self._lock, connection(self.pool, "loading the catalog") as conn:
            self.resolver.catalog = await load_catalog(conn)
        self._catalog_loaded_at = now

    async def _register(self, sensors: dict[str, tuple[str, str]]) -> None:
        async with connection(self.pool, "registering sensors") as conn:
            for external_id, (type_name, district) in sensors.items():
                ref = await register_sensor(
                    conn,
                    self.resolver.catalog,
                    external_id,
                    type_name,
                    district,
                    SensorOrigin.AUTO_REGISTER,
                )
                log.info(
                    "auto-registered sensor %s (%s in %s)", ref.external_id, type_name, district
                )
