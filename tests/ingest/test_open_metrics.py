"""Over real Mosquitto into the database: a type registered by its YAML alone receives a FIWARE
keyValues entity and vendor field names in other units on the ordinary telemetry topic, and the
readings are stored converted under the right metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.topics import telemetry_topic
from storage.type_specs import SaveOutcome, save_api_type
from tests.harness import ScratchDatabase
from tests.ingest.traffic import ingest_settings, publish, running
from tests.open_types import FIWARE_AIR_STORED, air_station, fiware_air
from tests.waiting import wait_until

SENSOR = "yp-xa-0902"
TOPIC = telemetry_topic("buildings", "wujiaochang", SENSOR)


async def readings(pool: asyncpg.Pool) -> list[tuple[datetime, str, float]]:
    rows = await pool.fetch(
        "SELECT r.ts, m.name, r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id "
        "JOIN metrics m ON m.id = r.metric_id WHERE s.external_id = $1 ORDER BY r.ts, m.name",
        SENSOR,
    )
    return [(r["ts"], r["name"], r["value"]) for r in rows]


async def test_fiware_and_vendor_names_over_mqtt_are_stored_converted(
    prepared: ScratchDatabase,
    mqtt_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    async with pool.acquire() as conn:
        assert await save_api_type(conn, air_station()) is SaveOutcome.CREATED
    settings = ingest_settings(prepared.url, mqtt_broker.url, "auto_register")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    first = {  # the device's first message names its type, so the sensor registers itself
        "ts": int(start.timestamp() * 1000),
        "type": "air_station",
        "metrics": {"PM2.5": {"value": 0.042, "unit": "mg/m3"}, "rh": {"value": 0.5, "unit": "1"}},
    }
    vendor = {
        "ts": int((start + timedelta(minutes=1)).timestamp() * 1000),
        "metrics": {"temp": {"value": 68, "unit": "°F"}, "CO": {"value": 1500, "unit": "GQ"}},
    }
    observed = (start + timedelta(minutes=2)).isoformat()
    async with running(service_factory(settings, pool)):
        await publish(settings.mqtt_url, [(TOPIC, orjson.dumps(first))])
        await wait_until(lambda: _count(pool, 2))
        await publish(
            settings.mqtt_url,
            [(TOPIC, orjson.dumps(vendor)), (TOPIC, orjson.dumps(fiware_air(observed)))],
        )
        await wait_until(lambda: _count(pool, 4 + len(FIWARE_AIR_STORED)))
    minute = timedelta(minutes=1)
    assert await readings(pool) == [
        (start, "pm25", 42.0),
        (start, "relative_humidity", 50.0),
        (start + minute, "co", 1.5),
        (start + minute, "temperature", 20.0),
        *sorted((start + 2 * minute, name, value) for name, value in FIWARE_AIR_STORED.items()),
    ]
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0


async def _count(pool: asyncpg.Pool, expected: int) -> bool:
    return len(await readings(pool)) >= expected
