"""The batch writer: readings in, each (sensor, metric, time) stored exactly once.

The fast path is a binary COPY, the fastest way into PostgreSQL. COPY cannot skip duplicates, so a
batch that collides with stored rows (a redelivery after a crash, a device resending) fails as a
whole and is written again with INSERT ... ON CONFLICT DO NOTHING, which is slower but only runs
for such batches. The first value stored for a key wins; later duplicates are counted, not stored.

On plain PostgreSQL the same transaction records the batch's time range for the rollup refresher,
so late readings reach the rollups; and a reading on a day without a partition creates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg

from storage.backend import Backend
from storage.errors import WriteRejected
from storage.partitions import ensure_partitions
from storage.pool import connection

# (ts, sensor_id, metric_id, value): the column order of `readings`.
Row = tuple[datetime, int, int, float]
COLUMNS = ("ts", "sensor_id", "metric_id", "value")

_INVALIDATE = (
    "INSERT INTO rollup_invalidations (rollup, lo, hi) SELECT rollup, $1, $2 FROM rollup_watermarks"
)
_INSERT_SKIPPING_DUPLICATES = """
INSERT INTO readings (ts, sensor_id, metric_id, value)
SELECT * FROM unnest($1::timestamptz[], $2::integer[], $3::smallint[], $4::float8[])
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    duplicates: int


class ReadingWriter:
    """Writes batches of rows through a pool; returns only after the batch is committed."""

    def __init__(self, pool: asyncpg.Pool, backend: Backend) -> None:
        self._pool = pool
        self._backend = backend

    async def write(self, rows: Sequence[Row]) -> WriteResult:
        if not rows:
            return WriteResult(0, 0)
        async with connection(self._pool, "writing readings") as conn:
            for _ in range(2):
                try:
                    inserted = await self._write_once(conn, rows)
                    return WriteResult(inserted, len(rows) - inserted)
                except asyncpg.exceptions.CheckViolationError as error:
                    # "no partition of relation readings found for row": make it, then retry.
                    if self._backend is not Backend.POSTGRES:
                        raise WriteRejected(f"readings rejected: {error}") from error
                    await self._create_partitions_for(conn, rows)
            raise WriteRejected("readings still have no partition after creating partitions")

    async def _write_once(self, conn: asyncpg.Connection, rows: Sequence[Row]) -> int:
        try:
            async with conn.transaction():
                await conn.copy_records_to_table("readings", records=rows, columns=COLUMNS)
                await self._invalidate_rollups(conn, rows)
            return len(rows)
        except asyncpg.exceptions.UniqueViolationError:
            pass
        async with conn.transaction():
            status = await conn.execute(_INSERT_SKIPPING_DUPLICATES, *zip(*rows, strict=True))
            await self._invalidate_rollups(conn, rows)
        return int(status.rsplit(" ", 1)[-1])

    async def _invalidate_rollups(self, conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
        # TimescaleDB tracks invalidations itself. Here it must be the same transaction as the
        # rows: recorded earlier, a refresh could consume it before the rows are visible.
        if self._backend is Backend.POSTGRES:
            times = [row[0] for row in rows]
            await conn.execute(_INVALIDATE, min(times), max(times))

    async def _create_partitions_for(self, conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
        # Callers bound timestamps (the ingest refuses readings older than the retention), so
        # the number of days here is bounded too.
        days: set[date] = {row[0].astimezone(UTC).date() for row in rows}
        await ensure_partitions(conn, days)
