"""Client ids are account names on the shipped broker (issue 12, item 1): a sensor that connects
with the ingest's client id is connected under its own name instead, so the ingest worker stays
connected and its persistent session, with what the broker queued for it, survives. Without the
binding line the same sensor closes the worker and wipes its session: the control, which shows
these tests see a takeover when there is one. One account is one connection, so each ingest
worker has its own account and the two share the stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from cityvitals.settings import Settings
from ingest.service import IngestService
from ingest.transport.client import MqttClient
from schemas.topics import telemetry_topic
from tests.deploy.secured_broker import (
    BINDING,
    INGEST_USER,
    INGEST_USER_2,
    SENSOR_A,
    SENSOR_B,
    SecuredBroker,
    secured_broker,
)
from tests.harness import POSTGRES_ONLY, ScratchDatabase
from tests.ingest.traffic import running
from tests.waiting import wait_until

SHARED = "$share/cityvitals/city/v1/+/+/+/telemetry"
TOPIC_A = telemetry_topic("water", "yinhang", SENSOR_A)
WAIT_S = 30.0  # a bound on waiting for the broker or the database, not a timing assertion


async def _client(broker: SecuredBroker, user: str, client_id: str) -> MqttClient:
    """Our own MQTT client (the ingest's): it does not reconnect by itself, unlike paho."""
    return await MqttClient.connect(
        broker.url(user), client_id, on_publish=lambda _: None, ca_file=broker.ca_file
    )


def _reading(at: datetime, value: float) -> bytes:
    return orjson.dumps({"ts": int(at.timestamp() * 1000), "metrics": {"pressure": value}})


def _counter(service: IngestService, name: str) -> float:
    value = service.metrics.registry.get_sample_value(f"cityvitals_ingest_{name}_total")
    assert value is not None, name
    return value


@POSTGRES_ONLY
async def test_a_sensor_with_the_ingests_client_id_neither_closes_it_nor_wipes_its_queue(
    secured: SecuredBroker,
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    settings = secured.ingest_settings(prepared.url)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    readings = [_reading(start + timedelta(seconds=n), 0.3 + n / 100) for n in range(4)]
    sensor = secured.device(SENSOR_A)
    assert sensor.connect() == "Success"

    async def stored(count: int) -> None:
        async def enough() -> bool:
            return bool(await pool.fetchval("SELECT count(*) >= $1 FROM readings", count))

        await wait_until(enough, WAIT_S)

    async def impostor_connects() -> None:
        # Sensor B's own password, the worker's client id, a clean start (paho's default).
        impostor = secured.device(SENSOR_B, client_id=INGEST_USER)
        try:
            assert await asyncio.to_thread(impostor.connect) == "Success"  # as itself
        finally:
            impostor.close()

    try:
        async with running(service_factory(settings, pool)) as worker:
            await impostor_connects()
            sensor.publish(TOPIC_A, readings[0])  # delivered only to a worker still subscribed
            await stored(1)
            assert _counter(worker, "mqtt_reconnects") == 1  # never closed, never reconnected
        # The worker is away: the broker queues for its session, then the impostor comes again.
        for body in readings[1:]:
            assert sensor.publish(TOPIC_A, body) == "Success"
        await impostor_connects()
        async with running(service_factory(settings, pool)) as again:
            await stored(len(readings))
            assert _counter(again, "mqtt_sessions_lost") == 0
    finally:
        sensor.close()
    assert await pool.fetchval("SELECT count(*) FROM readings") == len(readings)


@pytest.fixture
def unbound() -> Iterator[SecuredBroker]:
    with secured_broker(without=BINDING) as started:
        yield started


async def test_without_the_binding_the_same_sensor_closes_the_worker_and_wipes_its_session(
    unbound: SecuredBroker,
) -> None:
    async def worker() -> MqttClient:
        client = await _client(unbound, INGEST_USER, INGEST_USER)
        await client.subscribe([SHARED])
        return client

    first = await worker()
    assert first.session_present is False
    impostor = unbound.device(SENSOR_B, client_id=INGEST_USER)
    try:
        assert await asyncio.to_thread(impostor.connect) == "Success"
        await asyncio.wait_for(first.closed, WAIT_S)  # the broker closed the real worker
    finally:
        impostor.close()
    second = await worker()
    assert second.session_present is False  # the impostor's clean start deleted the session
    await second.disconnect()


async def test_one_account_is_one_connection(secured: SecuredBroker) -> None:
    first = await _client(secured, INGEST_USER, "worker-a")
    await first.subscribe([SHARED])
    # Another client id, the same account: the same client to the broker, which closes the
    # first connection and hands its session over. Hence an account per ingest worker, and the
    # simulator on one connection.
    second = await _client(secured, INGEST_USER, "worker-b")
    await asyncio.wait_for(first.closed, WAIT_S)
    assert second.session_present is True
    await second.disconnect()


async def test_two_workers_on_their_own_accounts_share_the_stream(secured: SecuredBroker) -> None:
    workers = [secured.device(user) for user in (INGEST_USER, INGEST_USER_2)]
    sensor = secured.device(SENSOR_A)
    bodies = [f"reading {n}".encode() for n in range(10)]
    try:
        for worker in workers:
            assert worker.connect() == "Success"
            worker.subscribe(SHARED)
        assert sensor.connect() == "Success"
        for body in bodies:
            assert sensor.publish(TOPIC_A, body) == "Success"

        def all_arrived() -> bool:
            return sum(len(worker.received) for worker in workers) >= len(bodies)

        await wait_until(all_arrived, WAIT_S)
    finally:
        sensor.close()
        for worker in workers:
            worker.close()
    got = [[body for _, body in worker.received] for worker in workers]
    assert sorted(got[0] + got[1]) == sorted(bodies)  # each once
    assert [len(share) > 0 for share in got] == [True, True]  # both took a share
