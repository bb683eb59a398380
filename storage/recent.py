"""Recent readings as columns of numbers, for the alert engine's evaluation ticks.

A tick may need every reading of the last few seconds of a 100,000-sensor city, so the rows come
by binary COPY and are parsed with one numpy view instead of one Python object per row: the four
fixed-width columns make every tuple exactly 40 bytes (field count, then length + value for each
of int4, int2, int8 timestamp, float8). That is about ten times cheaper than `fetch`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import numpy as np
import numpy.typing as npt

from storage.partitions import days_between, partition_name

__all__ = [
    "RecentReadings",
    "WindowStats",
    "latest_before",
    "readings_between",
    "window_stats",
]

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = len(_SIGNATURE) + 8  # flags (int32) + header extension length (int32)
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("l_sensor", ">i4"),
        ("sensor", ">i4"),
        ("l_metric", ">i4"),
        ("metric", ">i2"),
        ("l_ts", ">i4"),
        ("ts", ">i8"),
        ("l_value", ">i4"),
        ("value", ">f8"),
    ]
)
_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00:00Z: binary timestamps count microseconds from it


@dataclass(frozen=True)
class RecentReadings:
    """Parallel arrays, one entry per reading; `ts` in epoch seconds (float64)."""

    sensor: npt.NDArray[np.int32]
    metric: npt.NDArray[np.int16]
    ts: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.sensor)


EMPTY = RecentReadings(
    np.empty(0, np.int32), np.empty(0, np.int16), np.empty(0, np.float64), np.empty(0, np.float64)
)


def parse_binary_copy(data: bytes) -> RecentReadings:
    """Rows of (int4, int2, timestamptz, float8) from COPY ... (FORMAT binary) output."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not PostgreSQL binary COPY output")
    extension = int.from_bytes(data[len(_SIGNATURE) + 4 : _HEADER], "big")
    start = _HEADER + extension
    end = len(data) - 2  # the trailer: int16 -1
    count, rest = divmod(end - start, _ROW.itemsize)
    if rest:
        raise ValueError("binary COPY rows are not the expected 40 bytes each")
    if count == 0:
        return EMPTY
    rows = np.frombuffer(data, dtype=_ROW, count=count, offset=start)
    return RecentReadings(
        sensor=rows["sensor"].astype(np.int32),
        metric=rows["metric"].astype(np.int16),
        ts=rows["ts"].astype(np.float64) / 1e6 + _PG_EPOCH_S,
        value=rows["value"].astype(np.float64),
    )


async def _copy(conn: asyncpg.Connection, query: str, *args: object) -> RecentReadings:
    sink = io.BytesIO()

    async def write(chunk: bytes) -> None:
        sink.write(chunk)

    await conn.copy_from_query(query, *args, output=write, format="binary")
    return parse_binary_copy(sink.getvalue())


async def summarize_recent(conn: asyncpg.Connection, after: datetime, until: datetime) -> int:
    """Bring the BRIN summaries of the partitions holding (after, until] up to date.

    PostgreSQL summarizes new BRIN page ranges only when VACUUM runs; until then a range query
    reads every page written since, which for "the last minute" of a busy day is the whole day.
    Summarizing just the pages added since the last call costs one read of them, which are
    hot in cache anyway. Skipped (0) when another session holds the index (a VACUUM is doing
    the same) or on TimescaleDB, whose chunks carry a b-tree on time instead.
    """
    days = days_between(after, until)
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name FROM pg_index i "
        "JOIN pg_class ix ON ix.oid = i.indexrelid JOIN pg_am am ON am.oid = ix.relam "
        "JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE am.amname = 'brin' AND t.relname = ANY($1::text[])",
        [partition_name(day) for day in days],
    )
    summarized = 0
    for index in indexes:
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL lock_timeout = '100ms'")
                summarized += await conn.fetchval(
                    "SELECT brin_summarize_new_values($1::regclass)", index["name"]
                )
        except (asyncpg.LockNotAvailableError, asyncpg.InsufficientPrivilegeError):
            continue
    return summarized


async def readings_between(
    conn: asyncpg.Connection, after: datetime, until: datetime
) -> RecentReadings:
    """Every reading with `after` < ts <= `until` (device time), any sensor and metric."""
    await summarize_recent(conn, after, until)
    return await _copy(
        conn,
        "SELECT sensor_id, metric_id, ts, value FROM readings WHERE ts > $1 AND ts <= $2",
        after,
        until,
    )


async def latest_before(
    conn: asyncpg.Connection, until: datetime, lookback: timedelta
) -> RecentReadings:
    """The newest reading of every series within `lookback` before `until`: what a starting
    engine knows of the city. One index probe per (sensor, metric) of the catalogue."""
    return await _copy(
        conn,
        """
        SELECT s.id, m.id, l.ts, l.value
        FROM sensors s
        JOIN metrics m ON m.sensor_type_id = s.sensor_type_id
        CROSS JOIN LATERAL (
            SELECT r.ts, r.value FROM readings r
            WHERE r.sensor_id = s.id AND r.metric_id = m.id AND r.ts > $1 AND r.ts <= $2
            ORDER BY r.ts DESC LIMIT 1
        ) l
        """,
        until - lookback,
        until,
    )


@dataclass(frozen=True)
class WindowStats:
    """Per sensor, over one metric's readings in a window: avg, min, max, and the slope per
    minute of a least-squares line (a rate of change that a single noisy reading cannot fake)."""

    sensor: npt.NDArray[np.int32]
    avg: npt.NDArray[np.float64]
    min: npt.NDArray[np.float64]
    max: npt.NDArray[np.float64]
    slope_per_min: npt.NDArray[np.float64]  # NaN with fewer than two readings


async def window_stats(
    conn: asyncpg.Connection, metric_id: int, after: datetime, until: datetime
) -> WindowStats:
    rows = await conn.fetch(
        """
        SELECT sensor_id, avg(value) AS avg, min(value) AS min, max(value) AS max,
               regr_slope(value, extract(epoch FROM ts)) * 60 AS slope
        FROM readings
        WHERE metric_id = $1 AND ts > $2 AND ts <= $3
        GROUP BY sensor_id
        """,
        metric_id,
        after,
        until,
    )
    return WindowStats(
        sensor=np.fromiter((r["sensor_id"] for r in rows), np.int32, len(rows)),
        avg=np.fromiter((r["avg"] for r in rows), np.float64, len(rows)),
        min=np.fromiter((r["min"] for r in rows), np.float64, len(rows)),
        max=np.fromiter((r["max"] for r in rows), np.float64, len(rows)),
        slope_per_min=np.array(
            [np.nan if r["slope"] is None else r["slope"] for r in rows], np.float64
        ),
    )


async def unchanged_since(
    conn: asyncpg.Connection, metric_id: int, after: datetime, until: datetime
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """Per sensor, when its current run of equal values of `metric_id` began (epoch seconds),
    looking back to `after`: what a restarting engine needs to keep a flatline timer."""
    rows = await conn.fetch(
        """
        WITH latest AS (
            SELECT DISTINCT ON (sensor_id) sensor_id, value FROM readings
            WHERE metric_id = $1 AND ts > $2 AND ts <= $3 ORDER BY sensor_id, ts DESC
        ), last_other AS (
            SELECT r.sensor_id, max(r.ts) AS ts FROM readings r JOIN latest l USING (sensor_id)
            WHERE r.metric_id = $1 AND r.ts > $2 AND r.ts <= $3 AND r.value <> l.value
            GROUP BY r.sensor_id
        )
        SELECT r.sensor_id, extract(epoch FROM min(r.ts))::float8 AS since
        FROM readings r LEFT JOIN last_other o USING (sensor_id)
        WHERE r.metric_id = $1 AND r.ts > coalesce(o.ts, $2) AND r.ts <= $3
          AND r.sensor_id IN (SELECT sensor_id FROM latest)
        GROUP BY r.sensor_id
        """,
        metric_id,
        after,
        until,
    )
    return (
        np.fromiter((r["sensor_id"] for r in rows), np.int32, len(rows)),
        np.fromiter((r["since"] for r in rows), np.float64, len(rows)),
    )
