"""An alert as a row of the `alerts` table and back (storage/migrations/0005_alerts.sql)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from alerts.model import Alert, Grade, OpsState, Phase, Subject

__all__ = ["ALERT_COLUMNS", "alert_from_row", "escalation_from_row", "grade_or_none", "jsonb"]

ALERT_COLUMNS = (
    "fingerprint, rule_id, subject_kind, subject_id, domain, subdistrict, phase, grade, value, "
    "pending_since, firing_since, resolved_at, grade_changed_at, clearing_since, ops, "
    "acknowledged_by, acknowledged_at, assignee, note, closed_at, labels, escalation, ops_seq"
)


def grade_or_none(value: str | None) -> Grade | None:
    return None if value is None else Grade(value)


def jsonb(value: Any) -> Any:
    """A json/jsonb column's value: asyncpg hands it over as text unless a codec is set."""
    return json.loads(value) if isinstance(value, str) else value


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    return Alert(
        rule_id=row["rule_id"],
        subject=Subject(row["subject_kind"], row["subject_id"], row["domain"], row["subdistrict"]),
        phase=Phase(row["phase"]),
        grade=grade_or_none(row["grade"]),
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
        labels=jsonb(row["labels"]),
        clearing_since=row["clearing_since"],
    )


def escalation_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The alert's escalation states as stored: {route key: {episode, since, levels_sent}}."""
    return dict(jsonb(row["escalation"]) or {})
