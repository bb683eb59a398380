"""The storage scheduler: partitions ahead, retention by dropping partitions, rollup retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from storage.backend import Backend
from storage.catalog import load_catalog
from storage.maintenance import Maintenance
from storage.partitions import existing_partition_days, partition_name
from storage.policy import StoragePolicy
from storage.writer import ReadingWriter
from tests.harness import POSTGRES_ONLY, TIMESCALEDB_ONLY, ScratchDatabase

POLICY = StoragePolicy(
    partitions_ahead_days=3,
    raw_retention=timedelta(days=10),
    rollup_1m_retention=timedelta(days=5),
    rollup_1h_retention=timedelta(days=30),
    late_data_horizon=timedelta(days=2),
)


@POSTGRES_ONLY  # TimescaleDB runs these jobs itself
async def test_partitions_are_created_ahead(pool: asyncpg.Pool, now: datetime) -> None:
    later = now + timedelta(days=10)
    report = await Maintenance(pool, Backend.POSTGRES, POLICY).run_once(later)
    expected = {(later + timedelta(days=d)).astimezone(UTC).date() for d in range(4)}
    async with pool.acquire() as connection:
        assert expected <= await existing_partition_days(connection)
    assert {partition_name(d) for d in expected} <= set(report.partitions_created)


@POSTGRES_ONLY  # TimescaleDB runs these jobs itself
async def test_retention_drops_old_partitions_and_rollups(
    pool: asyncpg.Pool, now: datetime
) -> None:
    async with pool.acquire() as connection:
        catalog = await load_catalog(connection)
    sensor = catalog.sensors["yp-wp-0001"].id
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    writer = ReadingWriter(pool, Backend.POSTGRES)
    old, recent = now - timedelta(days=12), now - timedelta(days=1)
    await writer.write([(old, sensor, metric, 0.3), (recent, sensor, metric, 0.3)])
    maintenance = Maintenance(pool, Backend.POSTGRES, POLICY)
    await maintenance.run_once(now - timedelta(days=11))  # materializes both days' rollups
    report = await maintenance.run_once(now)

    assert partition_name(old.astimezone(UTC).date()) in report.partitions_dropped
    assert await pool.fetchval("SELECT count(*) FROM readings") == 1
    assert await pool.fetchval("SELECT min(ts) FROM readings") == recent
    # 1-minute rollups keep 5 days, hourly ones 30: the old hour survives only hourly.
    assert await pool.fetchval("SELECT count(*) FROM rollup_1m WHERE bucket < $1", recent) == 0
    assert await pool.fetchval("SELECT count(*) FROM rollup_1h WHERE bucket < $1", recent) == 1


@POSTGRES_ONLY  # TimescaleDB runs these jobs itself
async def test_second_pass_is_a_no_op(pool: asyncpg.Pool, now: datetime) -> None:
    maintenance = Maintenance(pool, Backend.POSTGRES, POLICY)
    await maintenance.run_once(now)
    again = await maintenance.run_once(now)
    assert again.partitions_created == []
    assert again.partitions_dropped == []


@TIMESCALEDB_ONLY
async def test_timescaledb_has_policies_for_every_job(
    prepared: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    jobs = await conn.fetch(
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs "
        "WHERE proc_name LIKE 'policy_%'"
    )
    procs = sorted(r["proc_name"] for r in jobs)
    assert procs.count("policy_retention") == 4  # readings, both rollups, ingest_activity
    retained = {r["hypertable_name"] for r in jobs if r["proc_name"] == "policy_retention"}
    assert "ingest_activity" in retained
    assert procs.count("policy_compression") == 1
    assert procs.count("policy_refresh_continuous_aggregate") == 2
