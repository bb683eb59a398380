"""The shared resolve-and-store path: sensor types changed while running are picked up."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import orjson

from ingest.processor import TYPES_CHECK_EVERY, Processor
from ingest.resolver import Inbound, Limits, Resolver
from schemas.inventory import UnknownSensorPolicy
from schemas.registry import Registry
from schemas.sensor_type import SensorType
from schemas.telemetry import validators_for
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.type_specs import SaveOutcome, save_api_type
from storage.writer import ReadingWriter
from tests.harness import ScratchDatabase


def hammer_type(registry: Registry) -> SensorType:
    spec = registry.types["water_main_pressure"].model_dump(mode="json")
    return SensorType.model_validate({**spec, "name": "water_hammer"})


async def test_a_type_stored_while_running_is_used_without_restart(
    pool: asyncpg.Pool, prepared: ScratchDatabase, registry: Registry, now: datetime
) -> None:
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    resolver = Resolver(
        validators_for(registry), catalog, UnknownSensorPolicy.AUTO_REGISTER, Limits()
    )
    writer = ReadingWriter(pool, Backend(prepared.backend))
    processor = Processor(pool, writer, resolver, now=now)
    body = {"ts": int(now.timestamp() * 1000), "type": "water_hammer", "metrics": {"pressure": 0.3}}
    message = Inbound(b"city/v1/water/yinhang/yp-wh-0001/telemetry", orjson.dumps(body), 1, 1, now)

    before = await processor.resolve([message], now)
    assert [d.reason for d in before.dead_letters] == ["unknown_type"]
    async with pool.acquire() as conn:
        assert await save_api_type(conn, hammer_type(registry)) is SaveOutcome.CREATED
    # Stored types are checked every TYPES_CHECK_EVERY, not on every batch.
    soon = await processor.resolve([message], now + TYPES_CHECK_EVERY / 2)
    assert [d.reason for d in soon.dead_letters] == ["unknown_type"]

    later = now + TYPES_CHECK_EVERY
    after = await processor.resolve([message], later)
    assert after.dead_letters == []
    assert len(after.rows) == 1
    assert (await processor.store(after)).inserted == 1
    async with pool.acquire() as conn:
        origin = await conn.fetchval("SELECT origin FROM sensors WHERE external_id = 'yp-wh-0001'")
        # A changed type is picked up too: a narrower range now refuses the same value.
        narrower = hammer_type(registry).model_dump(mode="json")
        narrower["metrics"]["pressure"]["range"] = {"min": 0, "max": 0.2}
        narrower["metrics"]["pressure"]["thresholds"] = None
        updated = SensorType.model_validate(narrower)
        assert await save_api_type(conn, updated) is SaveOutcome.UPDATED
    assert origin == "auto_register"
    assert await processor.check_types(later + timedelta(seconds=1))
    refused = await processor.resolve([message], later + timedelta(seconds=1))
    assert [d.reason for d in refused.dead_letters] == ["out_of_range"]


async def test_types_owned_by_files_are_not_overwritten(
    pool: asyncpg.Pool, registry: Registry
) -> None:
    async with pool.acquire() as conn:
        shipped = registry.types["water_main_pressure"]
        assert await save_api_type(conn, shipped) is SaveOutcome.FILE_OWNED
