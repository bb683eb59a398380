"""The writer keeps the ingest activity (readings stored per minute and domain, the newest one's
time) in step with what it stores: duplicates are not counted, concurrent writers add up, and old
minutes go with the retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from storage.activity import Activity, tally
from storage.backend import Backend
from storage.catalog import Catalog, load_catalog
from storage.maintenance import Maintenance
from storage.policy import StoragePolicy
from storage.writer import ReadingWriter, Row
from tests.harness import POSTGRES_ONLY, ScratchDatabase

# (sensor, type, metric): two water sensors and a power one.
PRESSURE = ("yp-wp-0001", "water_main_pressure", "pressure")
PRESSURE_2 = ("yp-wp-0002", "water_main_pressure", "pressure")


@pytest.fixture
async def catalog(pool: asyncpg.Pool) -> Catalog:
    async with pool.acquire() as connection:
        return await load_catalog(connection)


def _power_sensor(catalog: Catalog, number: int = 0) -> tuple[str, str, str]:
    """A transformer (domain power) of the example inventory, with one of its metrics."""
    kind = "distribution_transformer"
    metric = min(m for t, m in catalog.metric_ids if t == kind)
    sensors = sorted(s.external_id for s in catalog.sensors.values() if s.type_name == kind)
    return sensors[number], kind, metric


def _rows(catalog: Catalog, which: tuple[str, str, str], times: list[datetime]) -> list[Row]:
    sensor, type_name, metric = which
    sensor_id, metric_id = catalog.sensors[sensor].id, catalog.metric_ids[(type_name, metric)]
    return [(ts, sensor_id, metric_id, 0.3) for ts in times]


async def _activity(pool: asyncpg.Pool) -> dict[tuple[datetime, str], tuple[int, datetime]]:
    rows = await pool.fetch("SELECT minute, domain, readings, newest FROM ingest_activity")
    return {(r["minute"], r["domain"]): (r["readings"], r["newest"]) for r in rows}


async def test_counts_per_domain_and_minute_with_the_newest_time(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    minute = now - timedelta(minutes=10)
    water = _rows(catalog, PRESSURE, [minute + timedelta(seconds=s) for s in (0, 20, 40)])
    water += _rows(catalog, PRESSURE_2, [minute + timedelta(seconds=s) for s in (5, 59)])
    water += _rows(catalog, PRESSURE, [minute + timedelta(seconds=65)])  # the next minute
    power = _rows(catalog, _power_sensor(catalog), [minute + timedelta(seconds=30)])

    result = await ReadingWriter(pool, prepared.backend).write(water + power)

    assert result.inserted == 7
    assert await _activity(pool) == {
        (minute, "water"): (5, minute + timedelta(seconds=59)),
        (minute + timedelta(minutes=1), "water"): (1, minute + timedelta(seconds=65)),
        (minute, "power"): (1, minute + timedelta(seconds=30)),
    }


async def test_duplicates_are_not_counted_twice(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    minute = now - timedelta(hours=1)
    times = [minute + timedelta(seconds=10 * i) for i in range(6)]
    await writer.write(_rows(catalog, PRESSURE, times[:4]))
    # COPY collides, then the batch is retried skipping duplicates: only 2 are new.
    again = await writer.write(_rows(catalog, PRESSURE, times))
    # A redelivered batch takes the skipping path at once: nothing is new.
    redelivered = await writer.write(_rows(catalog, PRESSURE, times), redelivered=True)

    assert (again.inserted, again.duplicates) == (2, 4)
    assert (redelivered.inserted, redelivered.duplicates) == (0, 6)
    assert await _activity(pool) == {(minute, "water"): (6, times[-1])}
    stored = await pool.fetchval("SELECT count(*) FROM readings")
    assert stored == 6


async def test_a_late_reading_adds_to_its_minute_and_keeps_the_newest(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(pool, prepared.backend)
    minute = now - timedelta(minutes=5)
    await writer.write(_rows(catalog, PRESSURE, [minute + timedelta(seconds=50)]))
    await writer.write(_rows(catalog, PRESSURE_2, [minute + timedelta(seconds=10)]))
    assert await _activity(pool) == {(minute, "water"): (2, minute + timedelta(seconds=50))}


async def test_concurrent_writers_add_up(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    # Two ingest processes (two pools, two writers) commit batches into the same minutes and
    # domains at once, in opposite orders of sensors: counts add up and nobody deadlocks.
    start = now - timedelta(minutes=30)
    times = [start + timedelta(seconds=s) for s in range(0, 180, 3)]  # 60 readings, 3 minutes
    power, power_2 = _power_sensor(catalog), _power_sensor(catalog, 1)
    other = await asyncpg.create_pool(prepared.url, min_size=1, max_size=2)
    try:
        writers = [ReadingWriter(pool, prepared.backend), ReadingWriter(other, prepared.backend)]

        async def ingest(writer: ReadingWriter, sensors: list[tuple[str, str, str]]) -> None:
            for ts in times:
                await writer.write([r for s in sensors for r in _rows(catalog, s, [ts])])

        await asyncio.gather(
            ingest(writers[0], [PRESSURE, power]), ingest(writers[1], [power_2, PRESSURE_2])
        )
    finally:
        await other.close()

    activity = await _activity(pool)
    minutes = [start + timedelta(minutes=m) for m in range(3)]
    assert {key: count for key, (count, _) in activity.items()} == {
        **{(m, "water"): 40 for m in minutes},
        **{(m, "power"): 40 for m in minutes},
    }
    assert sum(count for count, _ in activity.values()) == await pool.fetchval(
        "SELECT count(*) FROM readings"
    )


def test_tally_per_minute_and_domain_keeps_each_domains_newest() -> None:
    minute = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    at = [minute + timedelta(seconds=s) for s in (50, 10, 30, 20)]
    # Within one minute (the counting fast path), several domains, one reading not counted.
    assert tally(at, ["water", "power", "water", None]) == {
        (minute, "water"): (2, at[0]),
        (minute, "power"): (1, at[1]),
    }
    # Across minutes.
    later = minute + timedelta(seconds=75)
    assert tally([*at, later], ["water", "power", "water", None, "water"]) == {
        (minute, "water"): (2, at[0]),
        (minute, "power"): (1, at[1]),
        (minute + timedelta(minutes=1), "water"): (1, later),
    }


async def test_a_sensor_moved_to_another_domain_counts_there_once_its_domain_is_looked_up_again(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    clock = [0.0]
    activity = Activity(domain_ttl_s=60.0, clock=lambda: clock[0])
    sensor = catalog.sensors[PRESSURE[0]].id
    async with pool.acquire() as conn:
        await activity.record(conn, [now], [sensor])
        await conn.execute(
            "UPDATE sensor_types SET domain = 'power' WHERE name = 'water_main_pressure'"
        )
        await activity.record(conn, [now], [sensor])  # the writer's map still says water
        clock[0] = 61.0
        await activity.record(conn, [now], [sensor])
    assert await _activity(pool) == {(now, "water"): (2, now), (now, "power"): (1, now)}


@POSTGRES_ONLY  # TimescaleDB drops old chunks itself (a retention policy, see test_maintenance)
async def test_maintenance_prunes_old_minutes(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    policy = StoragePolicy(
        raw_retention=timedelta(days=10),
        rollup_1m_retention=timedelta(days=5),
        late_data_horizon=timedelta(days=2),
    )
    old, recent = now - timedelta(days=6), now - timedelta(days=1)
    await ReadingWriter(pool, Backend.POSTGRES).write(_rows(catalog, PRESSURE, [old, recent]))
    report = await Maintenance(pool, Backend.POSTGRES, policy).run_once(now)
    assert report.activity_rows_deleted == 1
    assert list(await _activity(pool)) == [(recent, "water")]
