"""The ingest service against the real broker and database."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.inventory import Inventory
from tests.harness import ScratchDatabase
from tests.ingest.traffic import (
    count_readings,
    pressure_messages,
    publish,
    running,
    start_time,
)
from tests.waiting import wait_until


async def test_every_published_reading_is_stored_once(
    prepared: ScratchDatabase,
    settings: Settings,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    messages = pressure_messages(inventory, 5_000, start_time())
    async with running(service_factory(settings, pool)) as service:
        await publish(settings.mqtt_url, messages)

        async def all_stored() -> bool:
            return await count_readings(prepared.url) == len(messages)

        await wait_until(all_stored)
    assert service.metrics.stored._value.get() == len(messages)
    assert service.metrics.duplicates._value.get() == 0
