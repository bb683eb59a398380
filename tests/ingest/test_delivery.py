"""No reading lost, none stored twice: crashes of the ingest and an outage of the database."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
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
from tests.ingest.traffic import (
    INVENTORY,
    ingest_settings,
    pressure_messages,
    publish,
    running,
    start_time,
    wait_until,
)


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
    return sum(0.2 + (i % 997) / 10_000 for i in range(count))


class IngestProcess:
    """`cityvitals ingest` as a real process, so it can be killed with SIGKILL."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._collector: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cityvitals.main",
            "ingest",
            env=self._env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(60):
            while True:
                line = (await self.process.stdout.readline()).decode()
                if not line:
                    raise AssertionError("ingest exited:\n" + "".join(self.output))
                self.output.append(line)
                if "subscribed at" in line:
                    break
        self._collector = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode())

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 60)


async def test_sigkill_twice_while_publishing_50000(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, inventory: Inventory
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
    ingest = IngestProcess(env)
    await ingest.start()
    publishing = asyncio.create_task(publish(mqtt_broker.url, messages, rate=8_000))
    for pause in (1.5, 2.0):
        await asyncio.sleep(pause)
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
            await asyncio.sleep(3)
            await asyncio.to_thread(server.stop)
            await asyncio.sleep(20)
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
