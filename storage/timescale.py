"""TimescaleDB policies from settings: compression, retention, continuous-aggregate refresh.

TimescaleDB runs these jobs itself. They are (re)applied on every start so a changed setting takes
effect; remove-then-add inside one transaction keeps a concurrent starter from seeing a gap.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from storage.policy import StoragePolicy

_CAGG_SCHEDULE = {"readings_1m": timedelta(minutes=1), "readings_1h": timedelta(minutes=15)}
_CAGG_END_OFFSET = {"readings_1m": timedelta(minutes=1), "readings_1h": timedelta(hours=1)}


async def apply_timescale_policies(conn: asyncpg.Connection, policy: StoragePolicy) -> None:
    async with conn.transaction():
        await conn.execute("SELECT remove_compression_policy('readings', if_exists => true)")
        await conn.execute(
            "SELECT add_compression_policy('readings', compress_after => $1::interval)",
            policy.compress_after,
        )
        await _retention(conn, "readings", policy.raw_retention)
        await _retention(conn, "readings_1m", policy.rollup_1m_retention)
        await _retention(conn, "readings_1h", policy.rollup_1h_retention)
        # Per-minute counts (storage.activity), kept like the per-minute rollups.
        await _retention(conn, "ingest_activity", policy.rollup_1m_retention)
        for view, schedule in _CAGG_SCHEDULE.items():
            await conn.execute(
                "SELECT remove_continuous_aggregate_policy($1::regclass, if_exists => true)", view
            )
            await conn.execute(
                "SELECT add_continuous_aggregate_policy($1::regclass, "
                "start_offset => $2::interval, end_offset => $3::interval, "
                "schedule_interval => $4::interval)",
                view,
                policy.late_data_horizon,
                _CAGG_END_OFFSET[view],
                schedule,
            )


async def _retention(conn: asyncpg.Connection, relation: str, keep: timedelta) -> None:
    await conn.execute("SELECT remove_retention_policy($1::regclass, if_exists => true)", relation)
    await conn.execute(
        "SELECT add_retention_policy($1::regclass, drop_after => $2::interval)", relation, keep
    )
