"""The audit trail (`alert_transitions`): every transition of every alert, appended, never
changed; the closed loop's record (闭环处置) and the live stream's feed.

Listings come back as dicts of the transition's columns plus its alert's subject (`subject_kind`,
`subject_id`, `domain`, `subdistrict`), newest first unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from alerts.model import Transition

__all__ = ["insert_transitions", "last_transition_id", "list_transitions", "transitions_after"]

_INSERT = """
INSERT INTO alert_transitions (fingerprint, rule_id, at, kind, from_phase, to_phase, grade,
                               previous_grade, value, actor, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""
_WITH_SUBJECT = """
SELECT t.id, t.fingerprint, t.rule_id, t.at, t.kind, t.from_phase, t.to_phase, t.grade,
       t.previous_grade, t.value, t.actor, t.note, t.recorded_at, a.subject_kind, a.subject_id,
       a.domain, a.subdistrict
FROM alert_transitions t LEFT JOIN alerts a ON a.fingerprint = t.fingerprint
"""


async def insert_transitions(
    conn: asyncpg.Connection, transitions: Iterable[tuple[str, Transition]]
) -> int:
    """Audit lines: (rule id, transition) pairs; returns how many were written."""
    rows = [
        (
            t.fingerprint,
            rule_id,
            t.at,
            t.kind,
            t.from_phase.value,
            t.to_phase.value,
            None if t.grade is None else t.grade.value,
            None if t.previous_grade is None else t.previous_grade.value,
            t.value,
            t.actor,
            t.note,
        )
        for rule_id, t in transitions
    ]
    if rows:
        await conn.executemany(_INSERT, rows)
    return len(rows)


async def list_transitions(
    conn: asyncpg.Connection,
    *,
    fingerprint: str | None = None,
    kind: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,  # keyset: the id of the last line of the previous page
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The audit trail, newest first, filtered by whatever is given."""
    rows = await conn.fetch(
        _WITH_SUBJECT
        + "WHERE ($1::text IS NULL OR t.fingerprint = $1) AND ($2::text IS NULL OR t.kind = $2) "
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
        _WITH_SUBJECT + "WHERE t.id > $1 ORDER BY t.id LIMIT $2", after_id, limit
    )
    return [dict(r) for r in rows]


async def last_transition_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM alert_transitions"))
