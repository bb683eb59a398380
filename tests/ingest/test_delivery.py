"""No reading lost, none stored twice: crashes of the ingest and an outage of the database."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from bench.mqtt_load import Message
from cityvitals.configs import ingest_config
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.settings import Settings
from cityvitals.startup import prepare
from ingest.service import IngestService
from schemas.inventory import Inventory
from schemas.registry import Registry
from storage.backend import Backend
from storage.pool import create_pool
from tests.harness import ScratchDatabase
from tests.ingest.processes import IngestProcess
from tests.ingest.traffic import (
    INVENTORY,
    ingest_settings,
    pressure_messages,
    pressure_value,
    publish,
    running,
    start_time,
)
from tests.waiting import wait_until


async def _stored_exactly(url: str, messages: list[Message]) -> tuple[int, int, float]:
    """(rows, distinct (sensor, ts), sum of values) as stored."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT (sensor_id, ts)) AS d, sum(value) AS s "
            "FROM readings"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["n"], row["d"], row["s"] or 0.0


def _expected_sum(count: int) -> float:
    return sum(pressure_value(i) for i in range(count))


async def test_sigkill_twice_while_publishing_50000(
    prepared: ScratchDatabase,
    mqtt_broker: EmbeddedMosquitto,
    inventory: Inventory,
    spawn_ingest: Callable[[dict[str, str]], IngestProcess],
) -> None:
    env = {
        **os.environ,
        "CITYVITALS_DATABASE_URL": prepared.url,
        "CITYVITALS_MQTT_URL": mqtt_broker.url,
        "CITYVITALS_INVENTORY_PATH": str(INVENTORY),
        "CITYVITALS_INGEST__CLIENT_ID": f"test-kill-{os.getpid()}-{id(prepared)}",
        "CITYVITALS_INGEST__METRICS_PORT": "0",
        "CITYVITALS_STORAGE__BACKEND": prepared.backend.value,
    }
    messages = pressure_messages(inventory, 50_000, start_time())
    ingest = spawn_ingest(env)
    await ingest.start()
    publishing = asyncio.create_task(publish(mqtt_broker.url, messages, rate=8_000))
    for stored_before_kill in (10_000, 25_000):  # killed mid-stream, twice

        async def some_stored(at_least: int = stored_before_kill) -> bool:
            rows, _, _ = await _stored_exactly(prepared.url, messages)
            return rows >= at_least

        await wait_until(some_stored)
        await ingest.kill()
        await ingest.start()
    await publishing

    async def all_stored() -> bool:
        rows, _, _ = await _stored_exactly(prepared.url, messages)
        return rows >= len(messages)

    await wait_until(all_stored, timeout_s=120)
    assert await ingest.terminate() == 0, "".join(ingest.output)
    # Both restarts found the session (and the messages queued meanwhile) kept by the broker.
    assert sum("(session resumed)" in line for line in ingest.output) == 2
    rows, distinct, total = await _stored_exactly(prepared.url, messages)
    assert (rows, distinct) == (50_000, 50_000)
    assert total == pytest.approx(_expected_sum(50_000))


@pytest.fixture
async def own_postgres(registry: Registry) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL of this test's own: the test stops and starts it."""
    base = Path(tempfile.mkdtemp(prefix="cv-test-outage-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data")
    server.start()
    server.create_database("outage")
    yield server, server.url_for("outage")
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


async def test_database_down_for_20s_mid_stream(
    own_postgres: tuple[EmbeddedPostgres, str],
    mqtt_broker: EmbeddedMosquitto,
    inventory: Inventory,
    registry: Registry,
) -> None:
    server, url = own_postgres
    # A small receive maximum: during the outage most messages wait in the broker's queue.
    settings: Settings = ingest_settings(url, mqtt_broker.url, receive_maximum=1_000)
    prepared = await prepare(settings)
    pool = await create_pool(url, min_size=1, max_size=4)
    messages = pressure_messages(inventory, 20_000, start_time())
    service = IngestService(ingest_config(settings), pool, Backend(prepared.backend))
    try:
        async with running(service):
            publishing = asyncio.create_task(publish(mqtt_broker.url, messages, rate=2_000))

            async def streaming() -> bool:
                rows, _, _ = await _stored_exactly(url, messages)
                return rows >= 2_000

            await wait_until(streaming)
            await asyncio.to_thread(server.stop)
            await asyncio.sleep(20)  # the outage itself: 20 s down while the stream goes on
            stored_during_outage = service.metrics.stored._value.get()
            await asyncio.to_thread(server.start)
            await publishing

            async def all_stored() -> bool:
                try:
                    rows, _, _ = await _stored_exactly(url, messages)
                except OSError:
                    return False
                return rows >= len(messages)

            await wait_until(all_stored, timeout_s=120)
    finally:
        await pool.close()
    rows, distinct, total = await _stored_exactly(url, messages)
    assert (rows, distinct) == (20_000, 20_000)
    assert total == pytest.approx(_expected_sum(20_000))
    assert service.metrics.db_retries._value.get() > 0
    assert stored_during_outage < len(messages)
