"""Alerts and their audit trail in the database (tables in storage/migrations/0005_alerts.sql).

Two writers share the `alerts` table and never overwrite each other's columns: the engine owns
the phase columns (phase, grade, timers, value) and the ops actions (acknowledge, assign, close,
note; `alerts/ops.py`) own the ops columns. The engine writes ops columns only where its own
transition changed them (a new episode starts open; a closed alert that worsens reopens), and
picks up ops changes by `ops_seq`, which every ops action bumps from one sequence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from alerts.model import Alert, Grade, OpsState, Phase, Subject, Transition

__all__ = [
    "ALERT_COLUMNS",
    "alert_from_row",
    "insert_transitions",
    "load_active_alerts",
    "load_ops_changes",
    "upsert_alerts",
]

ALERT_COLUMNS = (
    "fingerprint, rule_id, subject_kind, subject_id, domain, subdistrict, phase, grade, value, "
    "pending_since, firing_since, resolved_at, grade_changed_at, clearing_since, ops, "
    "acknowledged_by, acknowledged_at, assignee, note, closed_at, labels, escalation, ops_seq"
)

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

_TRANSITION_INSERT = """
INSERT INTO alert_transitions (fingerprint, rule_id, at, kind, from_phase, to_phase, grade,
                               previous_grade, value, actor, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""


def _grade(value: str | None) -> Grade | None:
    return None if value is None else Grade(value)


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    labels = row["labels"]
    if isinstance(labels, str):
        labels = json.loads(labels)
    return Alert(
        rule_id=row["rule_id"],
        subject=Subject(row["subject_kind"], row["subject_id"], row["domain"], row["subdistrict"]),
        phase=Phase(row["phase"]),
        grade=_grade(row["grade"]),
        value=row["value"],
        pending_since=row["pending_since"],
        firing_since=row["firing_since"],
        resolved_at=row["resolved_at"],
        grade_changed_at=row["grade_changed_at"],
        ops=OpsState(row["ops"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        assignee=row["assignee"],
        note=row["note"],
        closed_at=row["closed_at"],
        labels=labels,
        clearing_since=row["clearing_since"],
    )


def escalation_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row["escalation"]
    return dict(json.loads(raw) if isinstance(raw, str) else raw or {})


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


async def insert_transitions(
    conn: asyncpg.Connection, transitions: Iterable[tuple[str, Transition]]
) -> int:
    """Audit lines: (rule id, transition) pairs."""
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
        await conn.executemany(_TRANSITION_INSERT, rows)
    return len(rows)


async def load_active_alerts(
    conn: asyncpg.Connection,
) -> list[tuple[Alert, dict[str, Any], int]]:
    """Pending and firing alerts with their escalation state and ops_seq: what a (re)starting
    engine resumes from, timers included."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE phase IN ('pending', 'firing')"
    )
    return [(alert_from_row(r), escalation_from_row(r), r["ops_seq"]) for r in rows]


async def load_ops_changes(conn: asyncpg.Connection, after_seq: int) -> list[tuple[Alert, int]]:
    """Alerts whose ops columns changed since `after_seq`, with their new ops_seq."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE ops_seq > $1 ORDER BY ops_seq", after_seq
    )
    return [(alert_from_row(r), r["ops_seq"]) for r in rows]
