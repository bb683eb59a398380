"""The ingest service consumes from the shipped broker configuration: TLS, its own account, the
shared subscription; a sensor's forged reading for another sensor never reaches the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from cityvitals.settings import Settings, load_settings
from ingest.service import IngestService
from schemas.topics import telemetry_topic
from tests.deploy.devices import Device
from tests.deploy.secured_broker import INGEST_USER, SENSOR_A, SENSOR_B, SecuredBroker, password_of
from tests.harness import ScratchDatabase
from tests.ingest.traffic import INVENTORY, running
from tests.waiting import wait_until


async def test_the_ingest_receives_over_tls_with_its_own_account(
    secured: SecuredBroker,
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    settings = load_settings(
        database_url=prepared.url,
        mqtt_url=secured.url(INGEST_USER),
        mqtt_ca_file=secured.ca_file,
        inventory_path=INVENTORY,
        ingest={"client_id": "ingest-tls-1", "shared_group": "cityvitals", "metrics_port": 0},
    )
    ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    sensor = Device(secured.broker.port, SENSOR_A, password_of(SENSOR_A), secured.ca_file)
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
