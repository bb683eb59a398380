"""The chaos drill: everything the ingest commits is stored exactly once.

One run goes through a SIGKILL between commit and acknowledgement (the broker redelivers what
was committed), a database outage (PostgreSQL stopped with `-m immediate`) and a broker restart
during that outage, with good readings, malformed messages and status changes mixed. Afterwards
every reading, every dead letter and every status change is stored once, PostgreSQL's log holds
no "duplicate key" error (redeliveries take the conflict-skipping path), and the outage reads as
a few plain lines in the ingest's log, not a traceback per reconnect.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest

from bench.mqtt_load import Message
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres, free_port
from cityvitals.settings import load_settings
from cityvitals.startup import prepare
from schemas.inventory import Inventory
from schemas.topics import status_topic, telemetry_topic
from tests.ingest.processes import BrokerProxy, IngestProcess, scrape
from tests.ingest.traffic import INVENTORY, pressure_messages, publish, start_time
from tests.waiting import wait_until


@pytest.fixture
async def own_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, migrated: the test stops and starts it."""
    base = Path(tempfile.mkdtemp(prefix="cv-test-chaos-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data")
    server.start()
    server.create_database("chaos")
    await prepare(load_settings(database_url=server.url_for("chaos"), inventory_path=INVENTORY))
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


class Traffic:
    """Each phase's messages: good readings at fresh times, malformed messages whose bytes are
    all different (each must be one dead letter, repeats 1)."""

    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._sensor = next(s for s in inventory if s.type == "water_main_pressure")
        self.start = start_time()
        self.good = 0
        self.bad = 0

    def phase(self, good: int, bad: int) -> list[Message]:
        readings = pressure_messages(
            self._inventory, good, self.start + timedelta(minutes=self.good // 1_000 + 1)
        )
        topic = telemetry_topic("water", self._sensor.subdistrict, self._sensor.id)
        malformed: list[Message] = []
        for i in range(self.bad, self.bad + bad):
            if i % 2:
                malformed.append((topic, b'{"ts": %d, "metrics": {' % i))  # bad_json
            else:
                body = {"ts": self._ms(i), "metrics": {"pressure": 9.9}}  # out_of_range
                malformed.append((topic, orjson.dumps(body)))
        self.good += good
        self.bad += bad
        mixed = readings + malformed
        mixed.sort(key=lambda message: hash(message[1]))  # interleaved, reproducibly
        return mixed

    def _ms(self, i: int) -> int:
        return int((self.start + timedelta(seconds=i)).timestamp() * 1000)

    def statuses(self, at: datetime) -> list[Message]:
        """A bare last will for one sensor (timed on arrival), a timed status for another."""
        willed, timed = [s for s in self._inventory if s.type == "water_main_pressure"][1:3]
        ms = int(at.timestamp() * 1000)
        return [
            (status_topic("water", willed.subdistrict, willed.id), b"offline"),
            (
                status_topic("water", timed.subdistrict, timed.id),
                orjson.dumps({"state": "offline", "ts": ms}),
            ),
        ]


async def _counts(url: str) -> tuple[int, int, int]:
    """(readings, dead-letter messages, status history rows); (-1, -1, -1) while down."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.exceptions.CannotConnectNowError):
        return -1, -1, -1
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM readings) AS r, "
            "(SELECT coalesce(sum(repeats), 0) FROM dead_letters) AS d, "
            "(SELECT count(*) FROM sensor_status) AS s"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["r"], row["d"], row["s"]


async def test_crash_outage_and_broker_restart_store_everything_once(
    own_postgres: EmbeddedPostgres,
    private_broker: EmbeddedMosquitto,
    inventory: Inventory,
    spawn_ingest: Callable[[dict[str, str]], IngestProcess],
) -> None:
    url = own_postgres.url_for("chaos")
    proxy = BrokerProxy(private_broker.port)
    await proxy.start()
    metrics_port = free_port()
    ingest = spawn_ingest(
        {
            **os.environ,
            "CITYVITALS_DATABASE_URL": url,
            "CITYVITALS_MQTT_URL": f"mqtt://127.0.0.1:{proxy.port}",
            "CITYVITALS_INVENTORY_PATH": str(INVENTORY),
            "CITYVITALS_INGEST__CLIENT_ID": f"test-chaos-{os.getpid()}",
            "CITYVITALS_INGEST__METRICS_PORT": str(metrics_port),
            "CITYVITALS_INGEST__MAX_BACKOFF": "1s",
        }
    )
    traffic = Traffic(inventory)

    async def all_in(readings: int, letters: int, statuses: int) -> None:
        async def done() -> bool:
            return await _counts(url) == (readings, letters, statuses)

        await wait_until(done, timeout_s=120)

    try:
        await ingest.start()
        await publish(private_broker.url, traffic.phase(2_000, 100))
        await all_in(2_000, 100, 0)

        # 1. SIGKILL between commit and acknowledgement: committed, never acknowledged.
        proxy.swallow()
        unacknowledged = traffic.phase(2_000, 100) + traffic.statuses(traffic.start)
        await publish(private_broker.url, unacknowledged)
        await all_in(4_000, 200, 2)
        await ingest.kill()
        await ingest.start()  # resumes its session: the broker redelivers all of it (DUP)

        async def redelivered() -> bool:
            duplicates = scrape(metrics_port, "cityvitals_ingest_readings_duplicate_total")
            return duplicates >= 2_000

        await wait_until(redelivered)

        # 2. The database goes down hard; while it is down the broker restarts.
        await asyncio.to_thread(own_postgres.stop, "immediate")
        await publish(private_broker.url, traffic.phase(2_000, 100))
        await ingest.wait_for_line("failed:")
        subscribed = ingest.count("subscribed at")
        await asyncio.to_thread(private_broker.restart)
        await ingest.wait_for_line("subscribed at", subscribed + 1)
        await publish(private_broker.url, traffic.phase(2_000, 100))
        await asyncio.to_thread(own_postgres.start)
        await all_in(8_000, 400, 2)
        assert await ingest.terminate() == 0
    finally:
        await proxy.close()

    conn = await asyncpg.connect(url)
    try:
        readings = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT (sensor_id, metric_id, ts)) AS d FROM readings"
        )
        letters = await conn.fetch("SELECT payload, repeats FROM dead_letters")
        history = await conn.fetch(
            "SELECT s.external_id, h.online FROM sensor_status h "
            "JOIN sensors s ON s.id = h.sensor_id"
        )
    finally:
        await conn.close()
    assert readings is not None
    assert (readings["n"], readings["d"]) == (traffic.good, traffic.good)
    assert len(letters) == traffic.bad == 400
    assert {r["repeats"] for r in letters} == {1}
    assert len({bytes(r["payload"]) for r in letters}) == 400
    assert sorted((r["external_id"], r["online"]) for r in history) == sorted(
        (topic.split("/")[4], False) for topic, _ in traffic.statuses(traffic.start)
    )
    # Redeliveries never went through a failing COPY: no duplicate-key error in the server log.
    server_log = own_postgres.log_path.read_text(encoding="utf-8", errors="replace")
    assert "duplicate key value" not in server_log
    # The outage, in the ingest's own words: a line when it began, one when it ended.
    output = "".join(ingest.output)
    assert "Traceback" not in output, output
    assert 1 <= ingest.count("failed:") <= 4, output
    assert ingest.count("succeeded again after") == ingest.count("failed:"), output
