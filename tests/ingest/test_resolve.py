"""The shared resolve-and-commit path: sensor types changed while running are picked up."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import orjson

from ingest.config import Limits
from ingest.resolve import TYPES_CHECK_EVERY, Inbound, Resolver
from schemas.inventory import UnknownSensorPolicy
from schemas.registry import Registry
from schemas.sensor_type import SensorType
from storage.backend import Backend
from storage.type_specs import SaveOutcome, save_api_type
from storage.writer import ReadingWriter
from tests.harness import ScratchDatabase


def hammer_type(registry: Registry) -> SensorType:
    spec = registry.types["water_main_pressure"].model_dump(mode="json")
    return SensorType.model_validate({**spec, "name": "water_hammer"})


async def test_a_type_stored_while_running_is_used_without_restart(
    pool: asyncpg.Pool, prepared: ScratchDatabase, registry: Registry, now: datetime
) -> None:
    resolver = Resolver(pool, policy=UnknownSensorPolicy.AUTO_REGISTER, limits=Limits())
    writer = ReadingWriter(pool, Backend(prepared.backend))
    body = {"ts": int(now.timestamp() * 1000), "type": "water_hammer", "metrics": {"pressure": 0.3}}
    message = Inbound(b"city/v1/water/yinhang/yp-wh-0001/telemetry", orjson.dumps(body), 1, 1, now)

    before = await resolver.resolve([message], now)
    assert [d.reason for d in before.dead_letters] == ["unknown_type"]
    async with pool.acquire() as conn:
        assert await save_api_type(conn, hammer_type(registry)) is SaveOutcome.CREATED
    # Stored types are checked every TYPES_CHECK_EVERY, not on every batch.
    soon = await resolver.resolve([message], now + TYPES_CHECK_EVERY / 2)
    assert [d.reason for d in soon.dead_letters] == ["unknown_type"]

    later = now + TYPES_CHECK_EVERY
    after = await resolver.resolve([message], later)
    assert after.dead_letters == []
    assert len(after.rows) == 1
    assert (await writer.write(after.rows)).inserted == 1
    async with pool.acquire() as conn:
        origin = await conn.fetchval("SELECT origin FROM sensors WHERE external_id = 'yp-wh-0001'")
        # A changed type is picked up too: a narrower range now refuses the same value.
        narrower = hammer_type(registry).model_dump(mode="json")
        narrower["metrics"]["pressure"]["range"] = {"min": 0, "max": 0.2}
        narrower["metrics"]["pressure"]["thresholds"] = None
        updated = SensorType.model_validate(narrower)
        assert await save_api_type(conn, updated) is SaveOutcome.UPDATED
    assert origin == "auto_register"
    assert await resolver.check_types(later + timedelta(seconds=1))
    refused = await resolver.resolve([message], later + timedelta(seconds=1))
    assert [d.reason for d in refused.dead_letters] == ["out_of_range"]


async def test_types_owned_by_files_are_not_overwritten(
    pool: asyncpg.Pool, registry: Registry
) -> None:
    async with pool.acquire() as conn:
        shipped = registry.types["water_main_pressure"]
        assert await save_api_type(conn, shipped) is SaveOutcome.FILE_OWNED
