"""Ingest activity: readings stored per minute and domain, and the newest one's time.

The writer calls `record_activity` in the transaction that stores the readings, with the readings
it actually stored (duplicates skipped on a redelivery are not counted), so the table never says
more than `readings` holds. A batch becomes a handful of upserted rows (its minutes times its
domains), never one per reading: the readings are grouped per sensor and minute first, then
joined to their sensor's type for the domain, which costs one index probe per sensor of the batch.

Several ingest processes add to the same rows: the upsert adds counts and keeps the greatest
time. It takes its row locks in (minute, domain) order, so two concurrent batches never wait on
each other crosswise (no deadlock); the writer runs it last in its transaction, so a lock on the
current minute's rows is held only for the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

_RECORD = """
INSERT INTO ingest_activity AS a (minute, domain, readings, newest)
SELECT r.minute, t.domain, sum(r.readings), max(r.newest)
FROM (
    SELECT date_trunc('minute', ts) AS minute, sensor_id, count(*) AS readings, max(ts) AS newest
    FROM unnest($1::timestamptz[], $2::integer[]) AS u(ts, sensor_id)
    GROUP BY 1, 2
) r
JOIN sensors s ON s.id = r.sensor_id
JOIN sensor_types t ON t.id = s.sensor_type_id
GROUP BY r.minute, t.domain
ORDER BY r.minute, t.domain
ON CONFLICT (minute, domain) DO UPDATE SET
    readings = a.readings + excluded.readings,
    newest = greatest(a.newest, excluded.newest)
"""


async def record_activity(
    conn: asyncpg.Connection, times: Sequence[datetime], sensor_ids: Sequence[int]
) -> None:
    """Count the stored readings given by their times and sensors (in the caller's transaction)."""
    if times:
        await conn.execute(_RECORD, times, sensor_ids)


async def prune_activity(conn: asyncpg.Connection, before: datetime) -> int:
    """Delete the minutes before `before` (plain PostgreSQL; TimescaleDB drops old chunks itself).
    Returns how many rows went."""
    status = await conn.execute("DELETE FROM ingest_activity WHERE minute < $1", before)
    return int(status.rsplit(" ", 1)[-1])
