"""Dead letters for the HTTP API: listing with filters, and selecting and marking replays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = "id, received_at, source, topic, payload, reason, field, detail, replayed_at"
_FILTERS = """
WHERE ($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR source = $2)
  AND ($3::boolean IS NULL OR (replayed_at IS NOT NULL) = $3)
  AND ($4::timestamptz IS NULL OR received_at >= $4)
  AND ($5::timestamptz IS NULL OR received_at < $5)
"""


async def list_dead_letters(
    conn: asyncpg.Connection,
    *,
    reason: str | None = None,
    source: str | None = None,
    replayed: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; `before_id` is the keyset (the last id of the previous page)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters {_FILTERS} "
        "AND ($6::bigint IS NULL OR id < $6) ORDER BY id DESC LIMIT $7",
        reason,
        source,
        replayed,
        since,
        until,
        before_id,
        limit,
    )
    return [dict(r) for r in rows]


async def get_dead_letter(conn: asyncpg.Connection, letter_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = $1", letter_id)
    return None if row is None else dict(row)


async def select_for_replay(
    conn: asyncpg.Connection,
    *,
    ids: Sequence[int] | None = None,
    reason: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Dead letters not replayed yet, oldest first: the given `ids`, or those matching."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters {_FILTERS} "
        "AND ($6::bigint[] IS NULL OR id = ANY($6)) ORDER BY id LIMIT $7",
        reason,
        source,
        False,
        since,
        until,
        list(ids) if ids is not None else None,
        limit,
    )
    return [dict(r) for r in rows]


async def mark_replayed(conn: asyncpg.Connection, ids: Sequence[int], now: datetime) -> None:
    await conn.execute(
        "UPDATE dead_letters SET replayed_at = $2 WHERE id = ANY($1::bigint[])", list(ids), now
    )
