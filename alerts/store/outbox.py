"""The notification outbox (`notifications`) and the notification log (`notification_groups`).

A notification is inserted in the same transaction as the alert transitions that caused it,
keyed by its idempotency key, so planning the same message twice stores it once. Its body and
key never change afterwards; only the delivery columns (state, attempts, when next) move, one
`record_attempt` per attempt. The log says what each group was last told, so a restarted engine
neither repeats a message nor forgets a resolved one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from alerts.notify import Notification, NotificationKind
from alerts.notify.planning import GroupRecord
from alerts.store.rows import grade_or_none

__all__ = [
    "DeliveryState",
    "Queued",
    "due_notifications",
    "enqueue",
    "load_groups",
    "record_attempt",
    "save_groups",
]

_INSERT = """
INSERT INTO notifications (idempotency_key, receiver, group_key, kind, grade, sequence,
                           episode_start, alert_count, payload, created_at, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10, $10)
ON CONFLICT (idempotency_key) DO NOTHING
"""
_DUE = """
SELECT id, idempotency_key, receiver, group_key, kind, grade, sequence, episode_start,
       alert_count, payload, created_at, attempts, first_attempt_at
FROM notifications WHERE state = 'pending' AND next_attempt_at <= $1
ORDER BY next_attempt_at LIMIT $2
"""
_RECORD = """
UPDATE notifications SET state = $2, attempts = attempts + 1, last_attempt_at = $3,
       first_attempt_at = coalesce(first_attempt_at, $3), next_attempt_at = $4,
       last_status = $5, last_error = $6, delivered_at = $7
WHERE id = $1
"""
_SAVE_GROUP = """
INSERT INTO notification_groups (group_key, receiver, episode_start, first_seen_at, last_sent_at,
                                 grade, firing, updates, repeats)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (group_key) DO UPDATE SET
    receiver = EXCLUDED.receiver, episode_start = EXCLUDED.episode_start,
    first_seen_at = EXCLUDED.first_seen_at, last_sent_at = EXCLUDED.last_sent_at,
    grade = EXCLUDED.grade, firing = EXCLUDED.firing, updates = EXCLUDED.updates,
    repeats = EXCLUDED.repeats
"""


class DeliveryState(StrEnum):
    PENDING = "pending"  # to be (re)tried at next_attempt_at
    DELIVERED = "delivered"
    FAILED = "failed"  # for good: recorded with its reason, never tried again


@dataclass(frozen=True)
class Queued:
    """A notification due for an attempt, with what its retry schedule needs."""

    id: int
    notification: Notification
    attempts: int  # made so far
    first_attempt_at: datetime | None


async def enqueue(conn: asyncpg.Connection, notifications: Iterable[Notification]) -> None:
    rows = [
        (
            n.idempotency_key,
            n.receiver,
            n.group_key,
            n.kind.value,
            None if n.grade is None else n.grade.value,
            n.sequence,
            n.episode_start,
            n.alert_count,
            json.dumps(n.payload, ensure_ascii=False, separators=(",", ":")),
            n.created_at,
        )
        for n in notifications
    ]
    if rows:
        await conn.executemany(_INSERT, rows)


async def due_notifications(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Queued]:
    """Pending notifications whose next attempt is due at `now`, longest waiting first."""
    return [
        Queued(
            id=row["id"],
            notification=Notification(
                receiver=row["receiver"],
                group_key=row["group_key"],
                kind=NotificationKind(row["kind"]),
                episode_start=row["episode_start"],
                grade=grade_or_none(row["grade"]),
                sequence=row["sequence"],
                idempotency_key=row["idempotency_key"],
                payload=json.loads(row["payload"]),
                created_at=row["created_at"],
                alert_count=row["alert_count"],
            ),
            attempts=row["attempts"],
            first_attempt_at=row["first_attempt_at"],
        )
        for row in await conn.fetch(_DUE, now, limit)
    ]


async def record_attempt(
    conn: asyncpg.Connection,
    queued: Queued,
    *,
    state: DeliveryState,
    at: datetime,
    next_attempt_at: datetime,
    status: int | None,
    error: str | None,
) -> None:
    """One attempt made at `at`, and where the notification stands after it."""
    delivered_at = at if state is DeliveryState.DELIVERED else None
    await conn.execute(
        _RECORD, queued.id, state.value, at, next_attempt_at, status, error, delivered_at
    )


async def load_groups(conn: asyncpg.Connection) -> dict[str, GroupRecord]:
    rows = await conn.fetch("SELECT * FROM notification_groups")
    return {
        r["group_key"]: GroupRecord(
            group_key=r["group_key"],
            receiver=r["receiver"],
            episode_start=r["episode_start"],
            first_seen_at=r["first_seen_at"],
            last_sent_at=r["last_sent_at"],
            grade=grade_or_none(r["grade"]),
            firing=frozenset(r["firing"]),
            updates=r["updates"],
            repeats=r["repeats"],
        )
        for r in rows
    }


async def save_groups(
    conn: asyncpg.Connection, records: Mapping[str, GroupRecord], forgotten: Iterable[str]
) -> None:
    """Upsert `records` and delete the groups in `forgotten` (their episode is over)."""
    gone = list(forgotten)
    if gone:
        await conn.execute("DELETE FROM notification_groups WHERE group_key = ANY($1)", gone)
    if records:
        await conn.executemany(
            _SAVE_GROUP,
            [
                (
                    r.group_key,
                    r.receiver,
                    r.episode_start,
                    r.first_seen_at,
                    r.last_sent_at,
                    None if r.grade is None else r.grade.value,
                    sorted(r.firing),
                    r.updates,
                    r.repeats,
                )
                for r in records.values()
            ],
        )
