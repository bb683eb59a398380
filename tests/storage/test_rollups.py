"""Rollups equal aggregates computed by hand, and late readings reach them after a refresh."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import pytest

from storage.backend import Backend
from storage.catalog import load_catalog
from storage.rollups import refresh_rollups
from storage.writer import ReadingWriter, Row
from tests.harness import TIMESCALEDB_ONLY, ScratchDatabase


@pytest.fixture
async def series(pool: asyncpg.Pool) -> tuple[int, int]:
    async with pool.acquire() as connection:
        catalog = await load_catalog(connection)
    return (
        catalog.sensors["yp-wp-0001"].id,
        catalog.metric_ids[("water_main_pressure", "pressure")],
    )


async def _refresh(pool: asyncpg.Pool, backend: Backend, now: datetime) -> None:
    async with pool.acquire() as connection:
        await refresh_rollups(connection, backend, now)


async def _bucket(pool: asyncpg.Pool, view: str, start: datetime) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT samples, value_sum, value_min, value_max, value_last FROM {view} "
        "WHERE bucket = $1",
        start,
    )


async def test_rollups_match_hand_computed_aggregates(
    prepared: ScratchDatabase, pool: asyncpg.Pool, series: tuple[int, int], now: datetime
) -> None:
    sensor, metric = series
    hour = now - timedelta(hours=3)
    values = [0.30, 0.25, 0.41, 0.28, 0.33, 0.36]
    # Two readings per minute for three minutes, written in shuffled time order.
    rows: list[Row] = [
        (hour + timedelta(seconds=20 * i + 10 * (i // 2)), sensor, metric, v)
        for i, v in enumerate(values)
    ]
    await ReadingWriter(pool, prepared.backend).write(list(reversed(rows)))
    await _refresh(pool, prepared.backend, now)
    hourly = await _bucket(pool, "readings_1h", hour)
    assert hourly is not None
    assert hourly["samples"] == 6
    assert hourly["value_sum"] == pytest.approx(sum(values))
    assert (hourly["value_min"], hourly["value_max"]) == (0.25, 0.41)
    assert hourly["value_last"] == 0.36
    minutes = await pool.fetch(
        "SELECT bucket, samples, value_last FROM readings_1m WHERE sensor_id = $1 ORDER BY bucket",
        sensor,
    )
    expected_minutes = sorted({r[0].replace(second=0) for r in rows})
    assert [m["bucket"] for m in minutes] == expected_minutes
    assert sum(m["samples"] for m in minutes) == 6


async def test_late_reading_shows_up_in_rollups_after_refresh(
    prepared: ScratchDatabase, pool: asyncpg.Pool, series: tuple[int, int], now: datetime
) -> None:
    sensor, metric = series
    writer = ReadingWriter(pool, prepared.backend)
    old_hour = now - timedelta(hours=6)
    await writer.write([(old_hour + timedelta(minutes=5), sensor, metric, 0.30)])
    await writer.write([(now - timedelta(minutes=10), sensor, metric, 0.31)])  # the newest
    await _refresh(pool, prepared.backend, now)
    before = await _bucket(pool, "readings_1h", old_hour)
    assert before is not None
    assert before["samples"] == 1

    late: Row = (old_hour + timedelta(minutes=50), sensor, metric, 0.12)
    assert (await writer.write([late])).inserted == 1
    # Materialized buckets only change at a refresh (as with TimescaleDB's aggregates).
    stale = await _bucket(pool, "readings_1h", old_hour)
    assert stale is not None
    assert stale["samples"] == 1

    await _refresh(pool, prepared.backend, now)
    after = await _bucket(pool, "readings_1h", old_hour)
    assert after is not None
    assert (after["samples"], after["value_min"], after["value_last"]) == (2, 0.12, 0.12)
    minute = await _bucket(pool, "readings_1m", old_hour + timedelta(minutes=50))
    assert minute is not None
    assert minute["value_last"] == 0.12


async def test_buckets_above_the_watermark_come_from_raw_data(
    prepared: ScratchDatabase, pool: asyncpg.Pool, series: tuple[int, int], now: datetime
) -> None:
    sensor, metric = series
    writer = ReadingWriter(pool, prepared.backend)
    await _refresh(pool, prepared.backend, now - timedelta(hours=1))
    await writer.write([(now - timedelta(minutes=20), sensor, metric, 0.5)])
    # No refresh since the write: the newest bucket must still be visible (real-time rollup).
    fresh = await _bucket(pool, "readings_1h", now - timedelta(hours=1))
    assert fresh is not None
    assert fresh["value_last"] == 0.5


@TIMESCALEDB_ONLY
async def test_refreshes_that_meet_another_refresh_wait_for_it(
    prepared: ScratchDatabase, pool: asyncpg.Pool, series: tuple[int, int], now: datetime
) -> None:
    """TimescaleDB refuses a refresh while another one (its own job, another service) refreshes
    the same aggregate: "could not refresh ... due to a concurrent refresh". Four at once meet
    each other; each must still return with everything up to `now` materialized."""
    sensor, metric = series
    start = now - timedelta(hours=6)
    rows: list[Row] = [(start + timedelta(seconds=30 * i), sensor, metric, 0.3) for i in range(600)]
    await ReadingWriter(pool, prepared.backend).write(rows)
    await asyncio.gather(*(_refresh(pool, prepared.backend, now) for _ in range(4)))
    materialized = await pool.fetchval(
        "SELECT sum(samples) FROM readings_1m WHERE sensor_id = $1", sensor
    )
    assert materialized == 600
