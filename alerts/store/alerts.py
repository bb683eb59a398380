"""The engine's side of the `alerts` table: the phase columns it writes every tick, and what a
(re)starting engine resumes from.

Two writers share the table and never overwrite each other's columns: the engine owns the phase
columns (phase, grade, timers, value, escalation) and the ops actions (`ops.py`) own the ops
columns. The engine writes ops columns only where its own transition changed them (a new episode
starts open; a closed alert that worsens reopens), and picks up ops changes by `ops_seq`, which
every ops action bumps from one sequence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from alerts.model import Alert
from alerts.store.rows import ALERT_COLUMNS, alert_from_row, escalation_from_row

__all__ = [
    "last_ops_seq",
    "load_active_alerts",
    "load_alerts",
    "load_ops_changes",
    "ops_changed",
    "upsert_alerts",
]

_PHASE_UPSERT = """
INSERT INTO alerts (fingerprint, rule_id, subject_kind, subject_id, domain, subdistrict, phase,
                    grade, value, pending_since, firing_since, resolved_at, grade_changed_at,
                    clearing_since, labels, escalation, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb, $17)
ON CONFLICT (fingerprint) DO UPDATE SET
    phase = EXCLUDED.phase, grade = EXCLUDED.grade, value = EXCLUDED.value,
    pending_since = EXCLUDED.pending_since, firing_since = EXCLUDED.firing_since,
    resolved_at = EXCLUDED.resolved_at, grade_changed_at = EXCLUDED.grade_changed_at,
    clearing_since = EXCLUDED.clearing_since, labels = EXCLUDED.labels,
    escalation = EXCLUDED.escalation, updated_at = EXCLUDED.updated_at
"""

_OPS_RESET = """
UPDATE alerts SET ops = $2, acknowledged_by = $3, acknowledged_at = $4, assignee = $5,
                  note = $6, closed_at = $7
WHERE fingerprint = $1
"""


def _phase_args(alert: Alert, escalation: Mapping[str, Any], now: datetime) -> tuple[Any, ...]:
    subject = alert.subject
    return (
        alert.fingerprint,
        alert.rule_id,
        subject.kind,
        subject.id,
        subject.domain,
        subject.subdistrict,
        alert.phase.value,
        None if alert.grade is None else alert.grade.value,
        alert.value,
        alert.pending_since,
        alert.firing_since,
        alert.resolved_at,
        alert.grade_changed_at,
        alert.clearing_since,
        json.dumps(dict(alert.labels), ensure_ascii=False, sort_keys=True),
        json.dumps(escalation, sort_keys=True),
        now,
    )


def ops_changed(before: Alert | None, after: Alert) -> bool:
    """Did the engine's own step change the ops columns (new episode, reopen)?"""
    if before is None:
        # No alert in memory: this is a new episode, and a stored row is an earlier episode's
        # (resolved alerts are not kept), whose closure or acknowledgement must not carry over.
        return True
    return (
        before.ops is not after.ops
        or before.acknowledged_by != after.acknowledged_by
        or before.assignee != after.assignee
        or before.closed_at != after.closed_at
    )


async def upsert_alerts(
    conn: asyncpg.Connection,
    changed: Sequence[tuple[Alert | None, Alert, Mapping[str, Any]]],
    now: datetime,
) -> None:
    """Write (previous, current, escalation state) for each alert the engine changed."""
    if not changed:
        return
    await conn.executemany(_PHASE_UPSERT, [_phase_args(a, esc, now) for _, a, esc in changed])
    resets = [
        (
            a.fingerprint,
            a.ops.value,
            a.acknowledged_by,
            a.acknowledged_at,
            a.assignee,
            a.note,
            a.closed_at,
        )
        for before, a, _ in changed
        if ops_changed(before, a)
    ]
    if resets:
        await conn.executemany(_OPS_RESET, resets)


async def load_active_alerts(
    conn: asyncpg.Connection,
) -> list[tuple[Alert, dict[str, Any], int]]:
    """Pending and firing alerts with their escalation state and ops_seq: what a (re)starting
    engine resumes from, timers included."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE phase IN ('pending', 'firing')"
    )
    return [(alert_from_row(r), escalation_from_row(r), r["ops_seq"]) for r in rows]


async def load_alerts(conn: asyncpg.Connection, fingerprints: Iterable[str]) -> list[Alert]:
    """The stored alerts among `fingerprints` (missing ones are left out)."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE fingerprint = ANY($1)", list(fingerprints)
    )
    return [alert_from_row(r) for r in rows]


async def load_ops_changes(conn: asyncpg.Connection, after_seq: int) -> list[tuple[Alert, int]]:
    """Alerts whose ops columns changed since `after_seq`, with their new ops_seq."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE ops_seq > $1 ORDER BY ops_seq", after_seq
    )
    return [(alert_from_row(r), r["ops_seq"]) for r in rows]


async def last_ops_seq(conn: asyncpg.Connection) -> int:
    """The newest ops change stored: a resuming engine takes changes after it."""
    return int(await conn.fetchval("SELECT coalesce(max(ops_seq), 0) FROM alerts"))
