"""Alerts as the ops centre reads them: the API's listings, the shell's worst-first list and the
firing counts behind the vital signs and the demo's summary line.

API listings come back as dicts of every column of `alerts`; `rows.alert_from_row` maps one to an
`Alert`. Worst first means the order of `schemas.grades`, passed to SQL as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from alerts.model import Alert
from alerts.store.rows import ALERT_COLUMNS, alert_from_row
from schemas.grades import WORST_FIRST

__all__ = ["firing_counts", "get_alert", "list_alerts", "list_worst_first"]

# `Alert.closed_while_firing` in SQL: ops closed it while its condition still holds.
CLOSED_WHILE_FIRING = "ops = 'closed' AND phase IN ('pending', 'firing')"
_FILTERS = f"""
WHERE ($1::text[] IS NULL OR phase = ANY($1)) AND ($2::text[] IS NULL OR grade = ANY($2))
  AND ($3::text IS NULL OR domain = $3) AND ($4::text IS NULL OR subdistrict = $4)
  AND ($5::text[] IS NULL OR ops = ANY($5)) AND ($6::text IS NULL OR rule_id = $6)
  AND ($7::text IS NULL OR subject_kind = $7) AND ($8::text IS NULL OR subject_id = $8)
  AND ($9::timestamptz IS NULL OR (updated_at, fingerprint) < ($9, $10::text))
  AND ($12::boolean IS NULL OR ({CLOSED_WHILE_FIRING}) = $12::boolean)
ORDER BY updated_at DESC, fingerprint DESC
LIMIT $11
"""
_WORST_FIRST = [grade.value for grade in WORST_FIRST]


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
    closed_while_firing: bool | None = None,
) -> list[dict[str, Any]]:
    """Most recently changed first; every filter given must hold. `closed_while_firing`: only
    alerts ops closed while their condition holds (True), or none of them (False)."""
    before_at, before_fp = before if before is not None else (None, None)
    rows = await conn.fetch(
        "SELECT * FROM alerts " + _FILTERS,
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
        closed_while_firing,
    )
    return [dict(r) for r in rows]


async def get_alert(conn: asyncpg.Connection, fingerprint: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM alerts WHERE fingerprint = $1", fingerprint)
    return None if row is None else dict(row)


async def list_worst_first(conn: asyncpg.Connection, *, open_only: bool = True) -> list[Alert]:
    """Alerts by grade, worst first, then the longest-standing first. `open_only`: the duty
    list, pending and firing ones, including those ops closed while they still fire (they stay
    until the condition clears: `Alert.closed_while_firing` marks them); otherwise every
    stored alert."""
    where = "WHERE phase IN ('pending', 'firing')" if open_only else ""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts {where} "
        "ORDER BY array_position($1::text[], grade), coalesce(firing_since, pending_since)",
        _WORST_FIRST,
    )
    return [alert_from_row(r) for r in rows]


async def firing_counts(
    conn: asyncpg.Connection, *, domain: str | None = None
) -> list[dict[str, Any]]:
    """Firing alerts per (domain, subdistrict or None for wider subjects, district: the code of
    a district-wide subject or None, grade), as dicts with those keys and `alerts`, the count."""
    rows = await conn.fetch(
        "SELECT domain, subdistrict, "
        "CASE WHEN subject_kind = 'district' THEN subject_id END AS district, grade, "
        "count(*) AS alerts FROM alerts "
        "WHERE phase = 'firing' AND ($1::text IS NULL OR domain = $1) GROUP BY 1, 2, 3, 4",
        domain,
    )
    return [dict(r) for r in rows]


def _list(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None
