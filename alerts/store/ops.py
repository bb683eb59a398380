"""The ops centre's side of the `alerts` table: acknowledge, assign, close and note.

Each action runs in one transaction: lock the alert row, apply the pure action from the state
machine (passed in, so what is allowed is decided in one place), write the ops columns with a
fresh `ops_seq`, and append the audit lines. The engine picks the change up by ops_seq on its next
tick (an acknowledgement stops escalation within a tick). The engine's own columns are not
touched (see `alerts.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from alerts.errors import AlertNotFound
from alerts.model import Alert, Transition
from alerts.store.audit import insert_transitions
from alerts.store.rows import ALERT_COLUMNS, alert_from_row

__all__ = ["OpsAction", "apply_ops_action"]

# The pure action: the alert as stored -> the alert afterwards and its audit lines (none: no-op).
OpsAction = Callable[[Alert], tuple[Alert, tuple[Transition, ...]]]

_WRITE_OPS = """
UPDATE alerts SET ops = $2, acknowledged_by = $3, acknowledged_at = $4, assignee = $5, note = $6,
                  closed_at = $7, ops_seq = nextval('alert_ops_seq'), updated_at = $8
WHERE fingerprint = $1
"""


async def apply_ops_action(
    conn: asyncpg.Connection, fingerprint: str, action: OpsAction, now: datetime
) -> Alert:
    """The alert after `action`, stored; raises AlertNotFound, or what `action` raises (then
    nothing is written)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {ALERT_COLUMNS} FROM alerts WHERE fingerprint = $1 FOR UPDATE", fingerprint
        )
        if row is None:
            raise AlertNotFound(f"no alert with fingerprint {fingerprint!r}")
        alert = alert_from_row(row)
        updated, transitions = action(alert)
        if transitions:
            await conn.execute(
                _WRITE_OPS,
                fingerprint,
                updated.ops.value,
                updated.acknowledged_by,
                updated.acknowledged_at,
                updated.assignee,
                updated.note,
                updated.closed_at,
                now,
            )
            await insert_transitions(conn, [(alert.rule_id, t) for t in transitions])
    return updated
