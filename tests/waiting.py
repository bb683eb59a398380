"""Waiting on a condition, the one way tests wait.

Tests never sleep to let something happen: they name the condition that proves it happened (a
stored row, a log line, a server that answers) and wait for it, bounded by a generous timeout
that only a broken system reaches. Conditions inside the test process are better awaited
directly (an asyncio.Event set by a callback); this helper is for state outside it - a database,
a subprocess, a server - which can only be asked again, so it asks every `poll_s`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Check = Callable[[], bool | Awaitable[bool]]


async def wait_until(check: Check, timeout_s: float = 60.0, poll_s: float = 0.05) -> None:
    """Return once `check()` is true; TimeoutError after `timeout_s` (a broken system)."""
    async with asyncio.timeout(timeout_s):
        while True:
            answer = check()
            if await answer if inspect.isawaitable(answer) else answer:
                return
            await asyncio.sleep(poll_s)  # the pause between two questions, not a wait for it
