"""Sensor online/offline state: an append-only history plus the current state on `sensors`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class StatusChange:
    sensor_id: int
    ts: datetime
    online: bool


_HISTORY = """
INSERT INTO sensor_status (sensor_id, ts, online)
SELECT * FROM unnest($1::integer[], $2::timestamptz[], $3::boolean[])
ON CONFLICT DO NOTHING
"""
# Only a newer change moves the current state: a retained birth replayed after a reconnect, or a
# late last-will, must not overwrite what happened since.
_CURRENT = """
UPDATE sensors s SET online = c.online, status_changed_at = c.ts
FROM (
    SELECT DISTINCT ON (sensor_id) sensor_id, ts, online
    FROM unnest($1::integer[], $2::timestamptz[], $3::boolean[]) AS u(sensor_id, ts, online)
    ORDER BY sensor_id, ts DESC
) c
WHERE s.id = c.sensor_id AND (s.status_changed_at IS NULL OR s.status_changed_at < c.ts)
"""


async def record_status_changes(conn: asyncpg.Connection, changes: Sequence[StatusChange]) -> None:
    if not changes:
        return
    columns = (
        [c.sensor_id for c in changes],
        [c.ts for c in changes],
        [c.online for c in changes],
    )
    async with conn.transaction():
        await conn.execute(_HISTORY, *columns)
        await conn.execute(_CURRENT, *columns)
