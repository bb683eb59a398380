"""The leading engine's delivery loop: send what the outbox holds, one attempt each, and record
how it went.

The outbox itself is a table (`store.outbox`): notifications are stored in the same transaction
as the transitions that caused them, so nothing planned is lost, and a retry sends the same body
under the same key. A crash between a receiver's 2xx and the recorded outcome means one more
attempt after restart: at least once on the wire, once for a receiver that honours the key.
When to try again is `notify.delivery.next_attempt` (backoff with full jitter, up to a day),
kept in the table, so a restart keeps the schedule too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import httpx

from alerts import store
from alerts.notify.delivery import DeliveryResult, Outcome, RetryPolicy, deliver, next_attempt
from alerts.notify.receivers import Routing
from alerts.store import DeliveryState, Queued

__all__ = ["Outbox"]

log = logging.getLogger(__name__)
DEFAULT_RETRY = RetryPolicy()


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
        async with self.pool.acquire() as conn:
            due = await store.due_notifications(conn, self.clock(), limit)
        gate = asyncio.Semaphore(self.concurrency)

        async def attempt(queued: Queued) -> None:
            async with gate:
                await self._attempt(queued, routing, self.clock())

        await asyncio.gather(*(attempt(q) for q in due))
        return len(due)

    async def _attempt(self, queued: Queued, routing: Routing | None, now: datetime) -> None:
        notification = queued.notification
        receiver = None if routing is None else routing.receivers.get(notification.receiver)
        if receiver is None:
            await self._record(queued, None, now, failed_reason="receiver no longer configured")
            return
        result = await deliver(notification, receiver, self.client, now)
        await self._record(queued, result, now)

    async def _record(
        self,
        queued: Queued,
        result: DeliveryResult | None,
        now: datetime,
        *,
        failed_reason: str | None = None,
    ) -> None:
        state, retry_at, status, error = DeliveryState.FAILED, now, None, failed_reason
        if result is not None:
            status, error = result.status, result.error
            self.counts[result.outcome.value] += 1
            if result.delivered:
                state = DeliveryState.DELIVERED
            elif result.outcome is Outcome.RETRY:
                at = next_attempt(
                    queued.attempts + 1,
                    queued.first_attempt_at or now,
                    now,
                    self.policy,
                    rng=self.rng,
                    retry_after=result.retry_after,
                )
                if at is not None:
                    state, retry_at = DeliveryState.PENDING, at
                else:
                    error = f"gave up after {queued.attempts + 1} attempts: {error}"
        if state is DeliveryState.FAILED:
            log.warning(
                "notification %s to %s failed for good: %s",
                queued.notification.idempotency_key,
                queued.notification.receiver,
                error,
            )
        async with self.pool.acquire() as conn:
            await store.record_attempt(
                conn,
                queued,
                state=state,
                at=now,
                next_attempt_at=retry_at,
                status=status,
                error=error,
            )
