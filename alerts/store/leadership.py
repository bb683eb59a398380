"""Which engine replica evaluates: a PostgreSQL advisory lock, and `alert_engines`, the table
where every replica says how it is doing (leader or standby, last tick, how long it took).

The lock is the truth; the table only reports it. The lock belongs to the session that took it,
so a leader that loses its connection loses the lead with it, and whatever it still tries to
commit on that connection fails.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

__all__ = ["LEADER_LOCK", "heartbeat", "try_to_lead"]

LEADER_LOCK = 0x63_69_74_79_61_6C  # "cityal": one evaluating engine per database

_HEARTBEAT = """
INSERT INTO alert_engines (name, leader, started_at, heartbeat_at, last_tick_at, last_tick_s,
                           active_alerts)
VALUES ($1, $2, now(), now(), $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET leader = $2, heartbeat_at = now(),
    last_tick_at = coalesce($3, alert_engines.last_tick_at),
    last_tick_s = coalesce($4, alert_engines.last_tick_s), active_alerts = $5
"""


async def try_to_lead(conn: asyncpg.Connection) -> bool:
    """Take the leader lock for this session if nobody holds it; True when this session leads."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK))


async def heartbeat(
    conn: asyncpg.Connection,
    name: str,
    *,
    leader: bool,
    tick_at: datetime | None = None,
    tick_s: float | None = None,
    active_alerts: int | None = None,
) -> None:
    """Report this replica; a standby leaves the last tick's figures as they were."""
    await conn.execute(_HEARTBEAT, name, leader, tick_at, tick_s, active_alerts)
