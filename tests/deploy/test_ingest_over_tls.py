"""The ingest service consumes from the shipped broker configuration: TLS, its own account, the
shared subscription; a sensor's forged reading for another sensor never reaches the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.topics import telemetry_topic
from tests.deploy.secured_broker import SENSOR_A, SENSOR_B, SecuredBroker
from tests.harness import ScratchDatabase
from tests.ingest.traffic import running
from tests.waiting import wait_until


async def test_the_ingest_receives_over_tls_with_its_own_account(
    secured: SecuredBroker,
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    settings = secured.ingest_settings(prepared.url)
    ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    sensor = secured.device(SENSOR_A)
    assert sensor.connect() == "Success"
    try:
        async with running(service_factory(settings, pool)):
            for target, value in ((SENSOR_B, 1.5), (SENSOR_A, 0.31)):
                body = orjson.dumps(
                    {"ts": int(ts.timestamp() * 1000), "metrics": {"pressure": value}}
                )
                sensor.publish(telemetry_topic("water", "yinhang", target), body)

            async def stored() -> bool:
                return bool(await pool.fetchval("SELECT count(*) FROM readings"))

            await wait_until(stored, timeout_s=30)
    finally:
        sensor.close()
    rows = await pool.fetch(
        "SELECT s.external_id, r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id"
    )
    assert [(row[0], row[1]) for row in rows] == [(SENSOR_A, 0.31)]
