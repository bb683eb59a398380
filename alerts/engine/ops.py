"""The ops centre's actions on stored alerts, and silences: for the CLI and the gateway.

Each action runs in one transaction: lock the alert row, apply the pure function from
`state.py` (so the rules for what is allowed live in one place), write the ops columns with a
fresh `ops_seq`, and append the audit lines. The running engine picks the change up by ops_seq on
its next tick (an acknowledgement stops escalation within a tick).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from alerts.engine import state
from alerts.errors import AlertError, SilenceError
from alerts.model import Alert
from alerts.notify.silences import Matcher, Silence
from alerts.store import ALERT_COLUMNS, alert_from_row, insert_transitions

__all__ = [
    "AlertNotFound",
    "acknowledge",
    "add_note",
    "assign",
    "close",
    "create_silence",
    "expire_silence",
    "load_silences",
]

Action = Callable[[Alert], tuple[Alert, state.Transitions]]

_WRITE_OPS = """
UPDATE alerts SET ops = $2, acknowledged_by = $3, acknowledged_at = $4, assignee = $5, note = $6,
                  closed_at = $7, ops_seq = nextval('alert_ops_seq'), updated_at = $8
WHERE fingerprint = $1
"""


class AlertNotFound(AlertError, LookupError):
    """No stored alert has this fingerprint."""


async def _apply(
    conn: asyncpg.Connection, fingerprint: str, action: Action, now: datetime
) -> Alert:
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


async def acknowledge(
    conn: asyncpg.Connection, fingerprint: str, by: str, note: str | None, now: datetime
) -> Alert:
    return await _apply(conn, fingerprint, lambda a: state.acknowledge(a, by, note, now), now)


async def assign(
    conn: asyncpg.Connection, fingerprint: str, to: str, by: str, now: datetime
) -> Alert:
    return await _apply(conn, fingerprint, lambda a: state.assign(a, to, by, now), now)


async def close(
    conn: asyncpg.Connection, fingerprint: str, by: str, note: str | None, now: datetime
) -> Alert:
    return await _apply(conn, fingerprint, lambda a: state.close(a, by, note, now), now)


async def add_note(
    conn: asyncpg.Connection, fingerprint: str, by: str, note: str, now: datetime
) -> Alert:
    return await _apply(conn, fingerprint, lambda a: state.add_note(a, by, note, now), now)


# --- silences --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SilenceRequest:
    matchers: Sequence[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str = ""


def _silence(row: asyncpg.Record) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(Matcher.parse(m) for m in row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        comment=row["comment"],
    )


async def create_silence(conn: asyncpg.Connection, request: SilenceRequest) -> Silence:
    """Validate (raises SilenceError naming the bad matcher) and store a silence."""
    silence = Silence(
        id=secrets.token_hex(8),
        matchers=tuple(Matcher.parse(m) for m in request.matchers),
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        created_by=request.created_by,
        comment=request.comment,
    )
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
    return silence


async def expire_silence(conn: asyncpg.Connection, silence_id: str, now: datetime) -> Silence:
    """End a silence now (kept for the record, as Alertmanager's expire does). A future one
    gets a start just before now, as in Alertmanager: ending it at its own start would leave a
    silence still to come (loaded, and active for a moment at that start)."""
    row = await conn.fetchrow(
        "UPDATE silences SET starts_at = least(starts_at, $2 - interval '1 microsecond'), "
        "ends_at = $2 WHERE id = $1 AND ends_at > $2 RETURNING *",
        silence_id,
        now,
    )
    if row is None:
        raise SilenceError(f"no active or future silence with id {silence_id!r}")
    return _silence(row)


async def load_silences(conn: asyncpg.Connection, now: datetime) -> list[Silence]:
    """Silences that have not ended at `now` (future ones included: they start on their own)."""
    rows = await conn.fetch("SELECT * FROM silences WHERE ends_at > $1 ORDER BY starts_at", now)
    return [_silence(r) for r in rows]
