"""Rollups: 1-minute and 1-hour aggregates of readings (count, sum, min, max, last).

On TimescaleDB they are continuous aggregates refreshed by TimescaleDB's own policies; here we
only offer an explicit refresh. On plain PostgreSQL this module is the refresher: each rollup has a
watermark; buckets below it are materialized in `rollup_1m` / `rollup_1h`, buckets above it are
computed on the fly by the `readings_1m` / `readings_1h` views. A refresh materializes up to the
start of the current bucket and recomputes buckets the writer invalidated with late readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_random_exponential

from storage.backend import Backend
from storage.buckets import ORIGIN_SQL, bucket_start

ROLLUPS: dict[str, timedelta] = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1)}

_MATERIALIZE = """
INSERT INTO {table} AS r (bucket, sensor_id, metric_id, samples, value_sum, value_min,
                          value_max, value_last)
SELECT date_bin($3::interval, ts, {origin}), sensor_id, metric_id, count(*), sum(value),
       min(value), max(value), (array_agg(value ORDER BY ts DESC))[1]
FROM readings
WHERE ts >= $1 AND ts < $2
GROUP BY 1, 2, 3
ON CONFLICT (sensor_id, metric_id, bucket) DO UPDATE SET
    samples = excluded.samples, value_sum = excluded.value_sum, value_min = excluded.value_min,
    value_max = excluded.value_max, value_last = excluded.value_last
"""


@dataclass(frozen=True)
class RefreshResult:
    rollup: str
    watermark: datetime
    buckets_written: int
    invalidations: int


async def refresh_rollups(
    conn: asyncpg.Connection, backend: Backend, now: datetime
) -> list[RefreshResult]:
    if backend is Backend.TIMESCALEDB:
        await refresh_continuous_aggregates(conn, now)
        return []
    return [await _refresh_postgres(conn, name, width, now) for name, width in ROLLUPS.items()]


async def refresh_continuous_aggregates(
    conn: asyncpg.Connection, now: datetime, since: datetime | None = None
) -> None:
    """Materialize TimescaleDB aggregates up to `now` (must not run inside a transaction).

    TimescaleDB's own refresh job may be refreshing the same aggregate at that moment; the call
    then fails at once ("concurrent refresh") rather than wait. Waiting for the job and calling
    again keeps the promise that everything up to `now` is materialized when this returns."""
    for name, width in ROLLUPS.items():
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_refreshed_elsewhere),
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            stop=stop_after_delay(_CONCURRENT_REFRESH_WAIT_S),
            reraise=True,
        ):
            with attempt:
                await conn.execute(
                    f"CALL refresh_continuous_aggregate('readings_{name}', "
                    "$1::timestamptz, $2::timestamptz)",
                    since,
                    bucket_start(now, width),
                )


_CONCURRENT_REFRESH_WAIT_S = 60.0  # the job refreshes a window at a time: seconds, not minutes


def _refreshed_elsewhere(error: BaseException) -> bool:
    return isinstance(error, asyncpg.LockNotAvailableError) and "concurrent refresh" in str(error)


async def _refresh_postgres(
    conn: asyncpg.Connection, name: str, width: timedelta, now: datetime
) -> RefreshResult:
    table = f"rollup_{name}"
    target = bucket_start(now, width)
    async with conn.transaction():
        # '-infinity' (nothing materialized yet) comes back as NULL: asyncpg would return a
        # naive datetime.min that cannot be compared with aware datetimes.
        watermark: datetime | None = await conn.fetchval(
            "SELECT nullif(watermark, '-infinity') FROM rollup_watermarks "
            "WHERE rollup = $1 FOR UPDATE",
            name,
        )
        ranges = await conn.fetch(
            "DELETE FROM rollup_invalidations WHERE rollup = $1 RETURNING lo, hi", name
        )
        written = 0
        for lo, hi in _merge([(r["lo"], r["hi"]) for r in ranges]):
            if watermark is None:
                break  # nothing materialized yet: the first refresh below covers everything
            # Only the part below the watermark is materialized; above it the view reads raw.
            start, end = bucket_start(lo, width), min(bucket_start(hi, width) + width, watermark)
            if start < end:
                written += await _materialize(conn, table, start, end, width)
        if watermark is None or target > watermark:
            first = watermark or await _first_bucket(conn, width)
            if first is not None and first < target:
                written += await _materialize(conn, table, first, target, width)
            await conn.execute(
                "UPDATE rollup_watermarks SET watermark = $2 WHERE rollup = $1", name, target
            )
            watermark = target
    return RefreshResult(name, watermark, written, len(ranges))


async def _first_bucket(conn: asyncpg.Connection, width: timedelta) -> datetime | None:
    first: datetime | None = await conn.fetchval("SELECT min(ts) FROM readings")
    return None if first is None else bucket_start(first, width)


async def _materialize(
    conn: asyncpg.Connection, table: str, start: datetime, end: datetime, width: timedelta
) -> int:
    status = await conn.execute(
        _MATERIALIZE.format(table=table, origin=ORIGIN_SQL), start, end, width
    )
    return int(status.rsplit(" ", 1)[-1])


def _merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
