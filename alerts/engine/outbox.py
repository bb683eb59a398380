"""The notification outbox and the notification log, in the database.

A notification is inserted in the same transaction as the alert transitions that caused it
(`enqueue`, keyed by its idempotency key, so planning the same message twice stores it once);
`Outbox.deliver_due` then sends whatever is due, one attempt each, and records the outcome.
A crash between a receiver's 2xx and the UPDATE means one more attempt with the same key and
body after restart: at least once on the wire, once for a receiver that honours the key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import asyncpg
import httpx

from alerts.model import Grade
from alerts.notify import Notification, NotificationKind
from alerts.notify.delivery import DeliveryResult, Outcome, RetryPolicy, deliver, next_attempt
from alerts.notify.planning import GroupRecord
from alerts.notify.receivers import Routing

__all__ = ["Outbox", "enqueue", "load_groups", "save_groups"]

log = logging.getLogger(__name__)
DEFAULT_RETRY = RetryPolicy()

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


async def load_groups(conn: asyncpg.Connection) -> dict[str, GroupRecord]:
    rows = await conn.fetch("SELECT * FROM notification_groups")
    return {
        r["group_key"]: GroupRecord(
            group_key=r["group_key"],
            receiver=r["receiver"],
            episode_start=r["episode_start"],
            first_seen_at=r["first_seen_at"],
            last_sent_at=r["last_sent_at"],
            grade=None if r["grade"] is None else Grade(r["grade"]),
            firing=frozenset(r["firing"]),
            updates=r["updates"],
            repeats=r["repeats"],
        )
        for r in rows
    }


async def save_groups(
    conn: asyncpg.Connection, records: Mapping[str, GroupRecord], forgotten: Iterable[str]
) -> None:
    gone = list(forgotten)
    if gone:
        await conn.execute("DELETE FROM notification_groups WHERE group_key = ANY($1)", gone)
    if records:
        await conn.executemany(
            "INSERT INTO notification_groups (group_key, receiver, episode_start, first_seen_at, "
            "last_sent_at, grade, firing, updates, repeats) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (group_key) DO UPDATE SET "
            "receiver = EXCLUDED.receiver, episode_start = EXCLUDED.episode_start, "
            "first_seen_at = EXCLUDED.first_seen_at, last_sent_at = EXCLUDED.last_sent_at, "
            "grade = EXCLUDED.grade, firing = EXCLUDED.firing, updates = EXCLUDED.updates, "
            "repeats = EXCLUDED.repeats",
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


def _notification(row: asyncpg.Record) -> Notification:
    return Notification(
        receiver=row["receiver"],
        group_key=row["group_key"],
        kind=NotificationKind(row["kind"]),
        episode_start=row["episode_start"],
        grade=None if row["grade"] is None else Grade(row["grade"]),
        sequence=row["sequence"],
        idempotency_key=row["idempotency_key"],
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
        alert_count=row["alert_count"],
    )


class Outbox:
    """Sends due notifications; one instance per leading engine."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: httpx.AsyncClient,
        *,
        concurrency: int = 8,
        policy: RetryPolicy = DEFAULT_RETRY,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool = pool
        self.client = client
        self.policy = policy
        self.rng = rng or random.Random()
        self.concurrency = concurrency
        # Wall time, not the evaluation clock: a signature must carry the moment it is sent,
        # and a receiver checks it against its own clock.
        self.clock = clock
        self.counts: dict[str, int] = {o.value: 0 for o in Outcome}

    async def deliver_due(self, routing: Routing | None, limit: int = 200) -> int:
        """One pass over what is due now; returns how many attempts were made."""
        now = self.clock()
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_DUE, now, limit)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def attempt(row: asyncpg.Record) -> None:
            async with gate:
                await self._attempt(row, routing, self.clock())

        await asyncio.gather(*(attempt(r) for r in rows))
        return len(rows)

    async def _attempt(self, row: asyncpg.Record, routing: Routing | None, now: datetime) -> None:
        notification = _notification(row)
        receiver = None if routing is None else routing.receivers.get(notification.receiver)
        if receiver is None:
            await self._record(row, None, now, failed_reason="receiver no longer configured")
            return
        result = await deliver(notification, receiver, self.client, now)
        await self._record(row, result, now)

    async def _record(
        self,
        row: asyncpg.Record,
        result: DeliveryResult | None,
        now: datetime,
        *,
        failed_reason: str | None = None,
    ) -> None:
        state, retry_at, status, error, delivered_at = "failed", now, None, failed_reason, None
        if result is not None:
            status, error = result.status, result.error
            self.counts[result.outcome.value] += 1
            if result.delivered:
                state, delivered_at = "delivered", now
            elif result.outcome is Outcome.RETRY:
                first = row["first_attempt_at"] or now
                at = next_attempt(
                    row["attempts"] + 1,
                    first,
                    now,
                    self.policy,
                    rng=self.rng,
                    retry_after=result.retry_after,
                )
                if at is not None:
                    state, retry_at = "pending", at
                else:
                    error = f"gave up after {row['attempts'] + 1} attempts: {error}"
        if state == "failed":
            log.warning(
                "notification %s to %s failed for good: %s",
                row["idempotency_key"],
                row["receiver"],
                error,
            )
        async with self.pool.acquire() as conn:
            await conn.execute(
                _RECORD, row["id"], state, now, retry_at, status, error, delivered_at
            )
