"""Sensor online/offline state: a history of changes plus the current state on `sensors`.

Every status write is idempotent, so a message the broker delivers again changes nothing:

- a status that carries its own time is keyed by (sensor, time) in the history;
- a status without one (the bare words of a last will, or a retained birth replayed on every
  reconnect) is timed by its arrival, which differs on a redelivery, so it is recorded only when
  it changes the sensor's state: a repeated `offline` is not a change.

Only a newer change moves the current state: a late last will must not overwrite what happened
since.
"""

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
    # False: `ts` is when it arrived (the payload had no time of its own).
    sender_timed: bool = True


# An arrival-timed status is a change when it differs from the state before it: the previous
# status of the same sensor in this batch, else the sensor's stored state. The current state
# then follows the newest change recorded, if it is newer than what the sensor shows.
_RECORD = """
WITH given AS (
    SELECT u.*, row_number() OVER () AS position
    FROM unnest($1::integer[], $2::timestamptz[], $3::boolean[], $4::boolean[])
        AS u(sensor_id, ts, online, sender_timed)
),
ordered AS (
    SELECT g.*, lag(g.online) OVER (PARTITION BY g.sensor_id ORDER BY g.ts, g.position) AS before
    FROM given g
),
recorded AS (
    INSERT INTO sensor_status (sensor_id, ts, online)
    SELECT o.sensor_id, o.ts, o.online
    FROM ordered o JOIN sensors s ON s.id = o.sensor_id
    WHERE o.sender_timed OR o.online IS DISTINCT FROM coalesce(o.before, s.online)
    ORDER BY o.sensor_id, o.ts, o.position
    ON CONFLICT DO NOTHING
    RETURNING sensor_id, ts, online
)
UPDATE sensors s SET online = c.online, status_changed_at = c.ts
FROM (SELECT DISTINCT ON (sensor_id) * FROM recorded ORDER BY sensor_id, ts DESC) c
WHERE s.id = c.sensor_id AND (s.status_changed_at IS NULL OR s.status_changed_at < c.ts)
"""


async def record_status_changes(conn: asyncpg.Connection, changes: Sequence[StatusChange]) -> None:
    """Store `changes` (one statement: atomic on its own, or in the caller's transaction)."""
    if not changes:
        return
    columns = (
        [c.sensor_id for c in changes],
        [c.ts for c in changes],
        [c.online for c in changes],
        [c.sender_timed for c in changes],
    )
    await conn.execute(_RECORD, *columns)
