"""Raw readings for the HTTP API: keyset pages and streamed exports.

Bucketed range queries are `storage.queries.range_buckets` (raw data or rollups by the span);
these serve the raw points themselves. Both read whole index ranges of (sensor, metric, time),
and callers bound the span, so a careless query cannot scan the table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg

_PAGE = """
SELECT r.ts, r.metric_id, m.name AS metric, r.value
FROM readings r JOIN metrics m ON m.id = r.metric_id
WHERE r.sensor_id = $1 AND r.metric_id = ANY($2::smallint[]) AND r.ts >= $3 AND r.ts < $4
  AND ($5::timestamptz IS NULL OR (r.ts, r.metric_id) > ($5, $6::smallint))
ORDER BY r.ts, r.metric_id
LIMIT $7
"""


async def raw_page(
    conn: asyncpg.Connection,
    sensor_key: int,
    metric_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Readings of one sensor in [start, end), by time then metric, after the keyset `after`
    (the last row's (ts, metric_id) of the previous page)."""
    after_ts, after_metric = after if after is not None else (None, None)
    rows = await conn.fetch(
        _PAGE, sensor_key, list(metric_ids), start, end, after_ts, after_metric, limit
    )
    return [dict(r) for r in rows]


_EXPORT = """
SELECT r.ts, s.external_id AS sensor, m.name AS metric, r.value
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN metrics m ON m.id = r.metric_id
WHERE r.sensor_id = ANY($1::integer[]) AND r.metric_id = ANY($2::smallint[])
  AND r.ts >= $3 AND r.ts < $4
ORDER BY r.sensor_id, r.metric_id, r.ts
"""


async def export_chunks(
    conn: asyncpg.Connection,
    sensor_keys: Sequence[int],
    metric_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    chunk: int = 5_000,
) -> AsyncIterator[list[asyncpg.Record]]:
    """(ts, sensor, metric, value) rows by sensor, metric and time, `chunk` at a time, from a
    server-side cursor: memory stays flat however long the range."""
    async with conn.transaction(readonly=True):
        cursor = await conn.cursor(_EXPORT, list(sensor_keys), list(metric_ids), start, end)
        while rows := await cursor.fetch(chunk):
            yield rows
