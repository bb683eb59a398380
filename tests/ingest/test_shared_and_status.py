"""Workers splitting a shared subscription, and sensor online/offline status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.inventory import Inventory
from schemas.topics import status_topic
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


async def test_two_workers_on_a_shared_subscription_store_every_reading_once(
    prepared: ScratchDatabase,
    mqtt_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    first = service_factory(
        ingest_settings(prepared.url, mqtt_broker.url, shared_group=group), pool
    )
    second = service_factory(
        ingest_settings(prepared.url, mqtt_broker.url, shared_group=group), pool
    )
    messages = pressure_messages(inventory, 20_000, start_time())
    async with running(first), running(second):
        await publish(mqtt_broker.url, messages)

        async def all_stored() -> bool:
            return await count_readings(prepared.url) >= len(messages)

        await wait_until(all_stored)
    received = [s.metrics.received._value.get() for s in (first, second)]
    stored = [s.metrics.stored._value.get() for s in (first, second)]
    assert sum(received) == len(messages)  # each message went to exactly one worker
    assert min(received) > 0  # and both took a share
    assert sum(stored) == len(messages)
    assert await count_readings(prepared.url) == len(messages)


async def test_birth_and_last_will_update_the_sensor_state(
    prepared: ScratchDatabase,
    settings: Settings,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    sensor = next(s for s in inventory if s.type == "parking_lot_counter")
    topic = status_topic("parking", sensor.subdistrict, sensor.id)
    born = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    async with running(service_factory(settings, pool)):
        await publish(
            settings.mqtt_url,
            [
                (topic, orjson.dumps({"state": "online", "ts": born.isoformat()})),
                (topic, b"offline"),  # a last will: no time, the arrival time is used
                (topic, orjson.dumps({"state": "sleeping"})),
            ],
        )

        async def handled() -> bool:
            history = await pool.fetchval("SELECT count(*) FROM sensor_status")
            letters = await pool.fetchval("SELECT count(*) FROM dead_letters")
            return bool(history == 2 and letters == 1)

        await wait_until(handled)
    history = await pool.fetch("SELECT ts, online FROM sensor_status ORDER BY ts")
    assert [r["online"] for r in history] == [True, False]
    assert history[0]["ts"] == born
    current = await pool.fetchrow(
        "SELECT online, status_changed_at FROM sensors WHERE external_id = $1", sensor.id
    )
    assert current is not None
    assert current["online"] is False
    assert current["status_changed_at"] == history[1]["ts"]
    letter = await pool.fetchrow("SELECT reason, field FROM dead_letters")
    assert letter is not None
    assert (letter["reason"], letter["field"]) == ("missing_field", "state")
