"""Retrying in-process work until it succeeds, with one log line per change of state.

tenacity keeps the schedule: exponential backoff with full jitter (a fleet of workers that lost
the same broker or database does not come back in lockstep), capped at `max_wait_s`. This adds
what an operator needs to read an outage from the log: one line when the work starts failing
(what, why, that it is being retried), one when it succeeds again (after how long and how many
tries), and nothing per try in between: a 20 s database outage is two lines, not two hundred
tracebacks.

Used by the ingest (broker reconnects, batch resolves and commits) and by every service's wait
for the database at start. The alert outbox keeps its own schedule in the database instead
(`alerts` delivery), since its retries must survive restarts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_random_exponential

T = TypeVar("T")


class Stopped(Exception):
    """The caller asked to stop while the work was still failing."""


async def until_done(
    action: Callable[[], Awaitable[T]],
    *,
    what: str,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    log: logging.Logger,
    first_wait_s: float = 0.05,
    max_wait_s: float = 10.0,
    on_retry: Callable[[], None] | None = None,
    stopping: asyncio.Event | None = None,
) -> T:
    """Await `action()` until it returns, retrying on `retry_on`; anything else propagates.

    `stopping`: when set, the wait between tries ends and `Stopped` is raised instead of
    another try (a service shutting down while its database or broker is away).
    """
    started = time.monotonic()

    def announce(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry()
        if state.attempt_number == 1 and state.outcome is not None:
            # Our errors often name the action already ("committing a batch: database ...").
            why = str(state.outcome.exception()).removeprefix(f"{what}: ")
            log.warning("%s failed: %s; retrying until it succeeds", what, why)

    async def pause(seconds: float) -> None:
        if stopping is None:
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await stopping.wait()
        except TimeoutError:
            return
        raise Stopped(what)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_random_exponential(multiplier=first_wait_s, max=max_wait_s),
        sleep=pause,
        before_sleep=announce,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            result = await action()
        if not (attempt.retry_state.outcome and attempt.retry_state.outcome.failed):
            tries = attempt.retry_state.attempt_number
            if tries > 1:
                took = time.monotonic() - started
                log.warning("%s succeeded again after %.1fs and %d tries", what, took, tries)
            return result
    raise AssertionError("unreachable: tenacity either returns, retries or raises")
