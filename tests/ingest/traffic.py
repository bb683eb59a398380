"""Helpers for ingest tests: settings against the throwaway servers, running services, traffic."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson

from bench.mqtt_load import Message, Publisher
from cityvitals.settings import Settings, load_settings
from ingest.service import IngestService
from schemas.inventory import Inventory
from schemas.topics import telemetry_topic

INVENTORY = Path(__file__).parents[2] / "schemas" / "inventory" / "example.yaml"


def ingest_settings(
    database_url: str, mqtt_url: str, unknown_sensor_policy: str = "dead_letter", **ingest: object
) -> Settings:
    return load_settings(
        database_url=database_url,
        mqtt_url=mqtt_url,
        inventory_path=INVENTORY,
        unknown_sensor_policy=unknown_sensor_policy,
        ingest={
            "client_id": f"test-ingest-{uuid.uuid4().hex[:8]}",
            "metrics_port": 0,
            "max_backoff": 1.0,
            **ingest,
        },
    )


@contextlib.asynccontextmanager
async def running(service: IngestService) -> AsyncIterator[IngestService]:
    task = asyncio.create_task(service.run())
    ready = asyncio.create_task(service.ready.wait())
    await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        yield service
    finally:
        service.stop()
        await asyncio.wait_for(task, 60)


def pressure_value(i: int) -> float:
    """The i-th test pressure: 0.2 to 0.596 MPa, with the type's 3 decimals (so what is stored,
    rounded to the precision, is what was sent)."""
    return (200 + i % 397) / 1000


def pressure_messages(
    inventory: Inventory,
    count: int,
    start: datetime,
    *,
    types: tuple[str, ...] = ("water_main_pressure",),
) -> list[Message]:
    """`count` single-reading messages, each (sensor, time) unique, spread over the sensors."""
    sensors = [s for s in inventory if s.type in types]
    domain = "water"
    messages = []
    for i in range(count):
        sensor = sensors[i % len(sensors)]
        ts = start + timedelta(milliseconds=i)
        body = {
            "ts": int(ts.timestamp() * 1000),
            "seq": i,
            "metrics": {"pressure": pressure_value(i)},
        }
        messages.append(
            (telemetry_topic(domain, sensor.subdistrict, sensor.id), orjson.dumps(body))
        )
    return messages


async def publish(mqtt_url: str, messages: list[Message], rate: float | None = None) -> None:
    publisher = await Publisher.connect(mqtt_url, f"test-pub-{uuid.uuid4().hex[:8]}")
    try:
        await publisher.publish(messages, rate=rate)
        await publisher.wait_acked(len(messages))
    finally:
        await publisher.close()


async def count_readings(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM readings"))
    finally:
        await conn.close()


def start_time() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
