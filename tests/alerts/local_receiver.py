"""A real HTTP receiver on 127.0.0.1 for notification tests: records requests, checks our
signature with the real clock (401 when it does not hold), answers from a script of replies."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from alerts.notify.receiving import Request, read_request, verify_request, write_response

SECRET = "duty-s3cret"
Reply = tuple[int, dict[str, str], bytes]
Seen = Request  # what the receiver recorded of one request


@dataclass
class LocalReceiver:
    """Records requests; answers from `replies` (then 200), after `delay` seconds."""

    port: int = 0
    replies: deque[Reply] = field(default_factory=deque)
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    check: Callable[[Seen], bool] | None = None  # signature check; False -> 401

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen = await read_request(reader)
            self.seen.append(seen)
            status, extra, payload = self.replies.popleft() if self.replies else (200, {}, b"ok")
            if self.check is not None and not self.check(seen):
                status, extra, payload = 401, {}, b"bad signature"
            await asyncio.sleep(self.delay)  # a slow receiver, for the timeout tests
            await write_response(writer, status, payload, extra)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (timeout tests)
        finally:
            writer.close()


def our_signature_holds(seen: Seen, now: datetime | None = None) -> bool:
    return verify_request(SECRET, seen, now)


@asynccontextmanager
async def running_receiver(
    check: Callable[[Seen], bool] | None = our_signature_holds,
) -> AsyncIterator[LocalReceiver]:
    local = LocalReceiver(check=check)
    server = await asyncio.start_server(local.handle, "127.0.0.1", 0)
    local.port = server.sockets[0].getsockname()[1]
    try:
        yield local
    finally:
        server.close()
        await server.wait_closed()


def idempotency_key_of(seen: Seen) -> str:
    return seen.idempotency_key
