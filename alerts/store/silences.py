"""Silences (`silences`): stored as Alertmanager matcher strings, read back as `Silence`s.

An expired silence stays on record (Alertmanager's expire): it ends now instead of being
deleted, so the wall and the audit can still say who silenced what and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from alerts.errors import SilenceError
from alerts.notify.silences import Matcher, Silence

__all__ = ["expire_silence", "insert_silence", "list_silences", "load_silences"]

_COLUMNS = "id, matchers, starts_at, ends_at, created_by, comment, created_at"


def _silence(row: Mapping[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(Matcher.parse(m) for m in row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        comment=row["comment"],
    )


async def insert_silence(conn: asyncpg.Connection, silence: Silence) -> None:
    await conn.execute(
        "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        silence.id,
        [f"{m.name}{m.op.value}{m.value}" for m in silence.matchers],
        silence.starts_at,
        silence.ends_at,
        silence.created_by,
        silence.comment,
    )


async def expire_silence(conn: asyncpg.Connection, silence_id: str, now: datetime) -> Silence:
    """End a silence now; raises SilenceError when none with this id is active or to come.
    A future one gets a start just before now, as in Alertmanager: ending it at its own start
    would leave a silence still to come (loaded, and active for a moment at that start)."""
    row = await conn.fetchrow(
        "UPDATE silences SET starts_at = least(starts_at, $2 - interval '1 microsecond'), "
        f"ends_at = $2 WHERE id = $1 AND ends_at > $2 RETURNING {_COLUMNS}",
        silence_id,
        now,
    )
    if row is None:
        raise SilenceError(f"no active or future silence with id {silence_id!r}")
    return _silence(row)


async def load_silences(conn: asyncpg.Connection, now: datetime) -> list[Silence]:
    """Silences that have not ended at `now` (future ones included: they start on their own)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM silences WHERE ends_at > $1 ORDER BY starts_at", now
    )
    return [_silence(r) for r in rows]


async def list_silences(
    conn: asyncpg.Connection, now: datetime, *, include_expired: bool, limit: int
) -> list[Silence]:
    """For the API: silences that have not ended (or all, when `include_expired`), newest start
    first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM silences WHERE $2 OR ends_at > $1 "
        "ORDER BY starts_at DESC, id LIMIT $3",
        now,
        include_expired,
        limit,
    )
    return [_silence(r) for r in rows]
