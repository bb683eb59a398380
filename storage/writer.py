"""The batch writer: one ingest batch committed in one transaction, each part exactly once.

A batch is readings plus the dead letters and status changes of the same messages. All three are
committed together, so a crash or a lost connection leaves either the whole batch or none of it,
and a message the broker delivers again stores nothing twice: readings are keyed by (sensor,
metric, time) - the first value stored wins, later duplicates are counted, not stored - dead
letters by their message (`storage.dead_letters`), status changes by time or by change
(`storage.status`).

Readings go in by binary COPY, the fastest way into PostgreSQL. COPY cannot skip duplicates, so a
batch that collides with stored rows (a device resending) fails as a whole and its transaction is
run again with INSERT ... ON CONFLICT DO NOTHING, slower but only for such batches. A batch the
broker marked as redelivered takes that path at once: a normal redelivery after a restart puts no
"duplicate key" errors in PostgreSQL's log.

On plain PostgreSQL the same transaction records the batch's time range for the rollup refresher,
so late readings reach the rollups; and a reading on a day without a partition creates it first.
Last in the same transaction, the readings stored are counted per minute and domain
(`storage.activity`), which the walls' ingest health reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg

from storage.activity import Activity
from storage.backend import Backend
from storage.dead_letters import DeadLetter, record_dead_letters
from storage.errors import WriteRejected
from storage.partitions import ensure_partitions
from storage.pool import connection
from storage.status import StatusChange, record_status_changes

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
RETURNING ts, sensor_id
"""


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    duplicates: int


class ReadingWriter:
    """Writes batches through a pool; returns only after the batch is committed."""

    def __init__(self, pool: asyncpg.Pool, backend: Backend) -> None:
        self._pool = pool
        self._backend = backend
        self._activity = Activity()

    async def write(
        self,
        rows: Sequence[Row],
        dead_letters: Sequence[DeadLetter] = (),
        status_changes: Sequence[StatusChange] = (),
        *,
        redelivered: bool = False,
    ) -> WriteResult:
        """Commit the batch; `redelivered`: some of it may be stored already (skip, don't COPY)."""
        if not (rows or dead_letters or status_changes):
            return WriteResult(0, 0)
        skip_duplicates = redelivered
        async with connection(self._pool, "committing a batch") as conn:
            for _ in range(3):  # at most: COPY collides, then a day has no partition
                try:
                    async with conn.transaction():
                        times, sensors = await self._write_readings(conn, rows, skip_duplicates)
                        await record_dead_letters(conn, dead_letters)
                        await record_status_changes(conn, status_changes)
                        await self._activity.record(conn, times, sensors)
                    return WriteResult(len(times), len(rows) - len(times))
                except asyncpg.exceptions.UniqueViolationError:
                    skip_duplicates = True
                except asyncpg.exceptions.CheckViolationError as error:
                    # "no partition of relation readings found for row": make it, then retry.
                    if self._backend is not Backend.POSTGRES:
                        raise WriteRejected(f"readings rejected: {error}") from error
                    await self._create_partitions_for(conn, rows)
            raise WriteRejected("readings still have no partition after creating partitions")

    async def _write_readings(
        self, conn: asyncpg.Connection, rows: Sequence[Row], skip_duplicates: bool
    ) -> tuple[list[datetime], list[int]]:
        """Store the rows; returns the times and sensors of those stored (not the duplicates)."""
        if not rows:
            return [], []
        if skip_duplicates:
            stored = await conn.fetch(_INSERT_SKIPPING_DUPLICATES, *zip(*rows, strict=True))
            times = [record[0] for record in stored]
            sensors = [record[1] for record in stored]
        else:
            await conn.copy_records_to_table("readings", records=rows, columns=COLUMNS)
            times = [row[0] for row in rows]
            sensors = [row[1] for row in rows]
        # TimescaleDB tracks invalidations itself. Here it must be the same transaction as the
        # rows: recorded earlier, a refresh could consume it before the rows are visible.
        if self._backend is Backend.POSTGRES and times:
            await conn.execute(_INVALIDATE, min(times), max(times))
        return times, sensors

    async def _create_partitions_for(self, conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
        # Callers bound timestamps (the ingest refuses readings older than the retention), so
        # the number of days here is bounded too.
        days: set[date] = {row[0].astimezone(UTC).date() for row in rows}
        await ensure_partitions(conn, days)
