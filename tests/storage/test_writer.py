"""The batch writer stores each (sensor, metric, time) once, whatever is sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from storage.backend import Backend
from storage.catalog import Catalog, load_catalog
from storage.partitions import existing_partition_days
from storage.writer import ReadingWriter, Row
from tests.harness import POSTGRES_ONLY, ScratchDatabase


@pytest.fixture
async def catalog(pool: asyncpg.Pool) -> Catalog:
    async with pool.acquire() as connection:
        return await load_catalog(connection)


def _pressure_rows(
    catalog: Catalog, start: datetime, count: int, sensor: str = "yp-wp-0001"
) -> list[Row]:
    sensor_id = catalog.sensors[sensor].id
    metric_id = catalog.metric_ids[("water_main_pressure", "pressure")]
    return [
        (start + timedelta(seconds=60 * i), sensor_id, metric_id, 0.3 + i / 1000)
        for i in range(count)
    ]


async def _stored(pool: asyncpg.Pool) -> list[tuple[datetime, int, int, float]]:
    rows = await pool.fetch("SELECT ts, sensor_id, metric_id, value FROM readings ORDER BY 2, 3, 1")
    return [tuple(r) for r in rows]


async def test_same_batch_twice_is_stored_once(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    batch = _pressure_rows(catalog, now - timedelta(hours=2), 500)
    first = await writer.write(batch)
    second = await writer.write(batch)
    assert (first.inserted, first.duplicates) == (500, 0)
    assert (second.inserted, second.duplicates) == (0, 500)
    assert await _stored(pool) == sorted(batch, key=lambda r: (r[1], r[2], r[0]))


async def test_overlapping_batch_stores_only_the_new_readings(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    rows = _pressure_rows(catalog, now - timedelta(hours=3), 300)
    await writer.write(rows[:200])
    result = await writer.write(rows[100:])
    assert (result.inserted, result.duplicates) == (100, 100)
    assert len(await _stored(pool)) == 300


async def test_duplicate_inside_one_batch_keeps_the_first_value(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    (ts, sensor, metric, _), *_ = _pressure_rows(catalog, now - timedelta(hours=1), 1)
    result = await writer.write([(ts, sensor, metric, 0.31), (ts, sensor, metric, 0.99)])
    assert (result.inserted, result.duplicates) == (1, 1)
    assert await pool.fetchval("SELECT value FROM readings") == 0.31


async def test_late_reading_older_than_the_newest_is_stored(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    await writer.write(_pressure_rows(catalog, now - timedelta(minutes=30), 10))
    late = _pressure_rows(catalog, now - timedelta(hours=5), 1)
    assert (await writer.write(late)).inserted == 1
    assert len(await _stored(pool)) == 11


@POSTGRES_ONLY  # TimescaleDB makes its chunks itself
async def test_reading_on_a_day_without_partition_creates_it(
    pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, Backend.POSTGRES)
    backfill = now - timedelta(days=20)
    async with pool.acquire() as connection:
        assert backfill.date() not in await existing_partition_days(connection)
    result = await writer.write(_pressure_rows(catalog, backfill, 3))
    assert result.inserted == 3
    async with pool.acquire() as connection:
        assert backfill.date() in await existing_partition_days(connection)


async def test_many_sensors_and_metrics_in_one_batch(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    rows: list[Row] = []
    for ref in catalog.sensors.values():
        for (type_name, _metric), metric_id in catalog.metric_ids.items():
            if type_name == ref.type_name:
                rows.extend(
                    (now - timedelta(seconds=s), ref.id, metric_id, float(s)) for s in range(5)
                )
    assert (await writer.write(rows)).inserted == len(rows)
    assert await pool.fetchval("SELECT count(*) FROM readings") == len(rows)
