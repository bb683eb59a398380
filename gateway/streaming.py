"""Streamed answers that always give back what they hold, however they end.

An export holds an export slot and a database connection, a live stream a place among
gateway.max_streams; a stream that kept them after it ended would wedge the gateway (issue 12:
two exports failing mid-stream blocked every export until restart). A stream can end five ways:
its body runs out, its body fails midway, the client goes away, it runs past its longest
duration, or it is cut off before its body started. Starlette's background task runs only on
the first, and a body's own `finally` never runs when the body never started, so the release is
the response's, in a `finally` around all of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class HoldingStream(StreamingResponse):
    """A StreamingResponse whose `release` runs once it ends, whichever way.

    The body is closed first (its own `finally` closes cursors and transactions), then
    `release` runs; both shielded, so a stream cancelled because its client left still gives
    everything back. Past `max_duration_s` the stream is cut off: the client gets an incomplete
    body, which it can tell from a finished one. A body that fails after the answer started is
    logged here, once: the status line is gone, so no error answer can follow.
    """

    def __init__(
        self,
        body: AsyncGenerator[bytes, None],
        release: Callable[[], Awaitable[None]],
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
        max_duration_s: float | None = None,
        what: str = "stream",
    ) -> None:
        super().__init__(body, media_type=media_type, headers=headers)
        self._body = body
        self._release = release
        self._max_duration_s = max_duration_s
        self._what = what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            with anyio.move_on_after(self._max_duration_s) as deadline:
                await super().__call__(scope, receive, sending)
            if deadline.cancelled_caught:
                log.warning("%s cut off after %gs", self._what, self._max_duration_s)
        except Exception as error:
            if not started:
                raise  # the handlers answer it as usual
            log.warning(
                "%s failed midway, its client gets an incomplete body: %r", self._what, error
            )
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._body.aclose()
                finally:
                    await self._release()
