"""Alert queries for the HTTP API: listings with filters, the audit trail, silences.

Rows come back as the columns of `alerts` (0005_alerts.sql); `alerts.store.alert_from_row` maps
them. Actions on alerts (acknowledge, close, ...) are `alerts.ops`, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

_ALERT_FILTERS = """
WHERE ($1::text[] IS NULL OR phase = ANY($1)) AND ($2::text[] IS NULL OR grade = ANY($2))
  AND ($3::text IS NULL OR domain = $3) AND ($4::text IS NULL OR subdistrict = $4)
  AND ($5::text[] IS NULL OR ops = ANY($5)) AND ($6::text IS NULL OR rule_id = $6)
  AND ($7::text IS NULL OR subject_kind = $7) AND ($8::text IS NULL OR subject_id = $8)
  AND ($9::timestamptz IS NULL OR (updated_at, fingerprint) < ($9, $10::text))
ORDER BY updated_at DESC, fingerprint DESC
LIMIT $11
"""


async def list_alerts(
    conn: asyncpg.Connection,
    *,
    phases: Sequence[str] | None = None,
    grades: Sequence[str] | None = None,
    domain: str | None = None,
    subdistrict: str | None = None,
    ops: Sequence[str] | None = None,
    rule_id: str | None = None,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    before: tuple[datetime, str] | None = None,  # keyset: (updated_at, fingerprint) of the last
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Most recently changed first."""
    before_at, before_fp = before if before is not None else (None, None)
    rows = await conn.fetch(
        "SELECT * FROM alerts " + _ALERT_FILTERS,
        _list(phases),
        _list(grades),
        domain,
        subdistrict,
        _list(ops),
        rule_id,
        subject_kind,
        subject_id,
        before_at,
        before_fp,
        limit,
    )
    return [dict(r) for r in rows]


async def get_alert(conn: asyncpg.Connection, fingerprint: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM alerts WHERE fingerprint = $1", fingerprint)
    return None if row is None else dict(row)


_TRANSITION_COLUMNS = """
t.id, t.fingerprint, t.rule_id, t.at, t.kind, t.from_phase, t.to_phase, t.grade,
t.previous_grade, t.value, t.actor, t.note, t.recorded_at, a.subject_kind, a.subject_id,
a.domain, a.subdistrict
"""


async def list_transitions(
    conn: asyncpg.Connection,
    *,
    fingerprint: str | None = None,
    kind: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The audit trail, newest first, with each alert's subject."""
    rows = await conn.fetch(
        f"SELECT {_TRANSITION_COLUMNS} FROM alert_transitions t "
        "LEFT JOIN alerts a ON a.fingerprint = t.fingerprint "
        "WHERE ($1::text IS NULL OR t.fingerprint = $1) AND ($2::text IS NULL OR t.kind = $2) "
        "AND ($3::text IS NULL OR t.actor = $3) AND ($4::timestamptz IS NULL OR t.at >= $4) "
        "AND ($5::timestamptz IS NULL OR t.at < $5) AND ($6::bigint IS NULL OR t.id < $6) "
        "ORDER BY t.id DESC LIMIT $7",
        fingerprint,
        kind,
        actor,
        since,
        until,
        before_id,
        limit,
    )
    return [dict(r) for r in rows]


async def transitions_after(
    conn: asyncpg.Connection, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """Transitions recorded after `after_id`, oldest first (the live stream's feed)."""
    rows = await conn.fetch(
        f"SELECT {_TRANSITION_COLUMNS} FROM alert_transitions t "
        "LEFT JOIN alerts a ON a.fingerprint = t.fingerprint "
        "WHERE t.id > $1 ORDER BY t.id LIMIT $2",
        after_id,
        limit,
    )
    return [dict(r) for r in rows]


async def last_transition_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM alert_transitions"))


async def list_silences(
    conn: asyncpg.Connection, now: datetime, *, include_expired: bool, limit: int
) -> list[dict[str, Any]]:
    """Silences that have not ended (or all, newest first when `include_expired`)."""
    rows = await conn.fetch(
        "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at "
        "FROM silences WHERE $2 OR ends_at > $1 ORDER BY starts_at DESC, id LIMIT $3",
        now,
        include_expired,
        limit,
    )
    return [dict(r) for r in rows]


def _list(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None
