"""The ingest reconnects to a restarted broker by itself, and exposes Prometheus metrics."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable

import asyncpg

from cityvitals.embedded import EmbeddedMosquitto, free_port
from cityvitals.metrics_server import serve_metrics
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.inventory import Inventory
from tests.harness import ScratchDatabase
from tests.ingest.traffic import (
    count_readings,
    ingest_settings,
    pressure_messages,
    publish,
    running,
    start_time,
)
from tests.waiting import wait_until


async def test_broker_restart_mid_stream(
    prepared: ScratchDatabase,
    private_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    settings = ingest_settings(prepared.url, private_broker.url)
    messages = pressure_messages(inventory, 4_000, start_time())
    first, second = messages[::2], messages[1::2]
    async with running(service_factory(settings, pool)) as service:
        await publish(private_broker.url, first)
        await asyncio.to_thread(private_broker.restart)
        # The broker kept the session; the ingest finds it again without help.
        await publish(private_broker.url, second)

        async def all_stored() -> bool:
            return await count_readings(prepared.url) == len(first) + len(second)

        await wait_until(all_stored)
    assert service.metrics.reconnects._value.get() >= 2


async def test_metrics_endpoint_serves_ingest_counters(
    prepared: ScratchDatabase,
    mqtt_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    settings = ingest_settings(prepared.url, mqtt_broker.url)
    service = service_factory(settings, pool)
    port = serve_metrics(service.metrics.registry, "127.0.0.1", free_port(), "ingest.metrics_port")
    async with running(service):
        await publish(mqtt_broker.url, pressure_messages(inventory, 100, start_time()))

        async def stored() -> bool:
            return await count_readings(prepared.url) == 100

        await wait_until(stored)
        url = f"http://127.0.0.1:{port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    text = body.decode()
    assert "cityvitals_ingest_messages_received_total 100.0" in text
    assert "cityvitals_ingest_readings_stored_total 100.0" in text
    assert "cityvitals_ingest_commit_seconds_bucket" in text
