"""The demo's duty officer: a webhook receiver that prints each alert message it gets.

It checks the signature like a real receiver should (a message that fails is answered 401 and
printed as such), and answers a repeated idempotency key with 200 without printing it again, so
the terminal shows what a duty officer's phone would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from alerts.notify.receiving import Request, read_request, verify_request, write_response


class DemoReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.url = ""
        self.received = 0
        self._seen: set[str] = set()

    @classmethod
    @asynccontextmanager
    async def running(cls, secret: str) -> AsyncIterator[DemoReceiver]:
        receiver = cls(secret)
        server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0)
        receiver.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/alerts"
        try:
            yield receiver
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            await write_response(writer, self._take(request))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def _take(self, request: Request) -> int:
        if not verify_request(self.secret, request):
            print("  ✖ a webhook with a bad signature was refused", flush=True)
            return 401
        if request.idempotency_key in self._seen:
            return 200  # a retry of a message already shown
        self._seen.add(request.idempotency_key)
        self.received += 1
        print(_line(json.loads(request.body)), flush=True)
        return 200


def _line(message: dict[str, Any]) -> str:
    alerts = message.get("alerts", [])
    firing = [a for a in alerts if a.get("status") == "firing"]
    shown = firing or alerts
    if not shown:
        return "  🔔 (an empty alert message)"
    first = shown[0].get("annotations", {}).get("summary_zh", "")
    more = f"  (+{len(shown) - 1})" if len(shown) > 1 else ""
    mark = "🔔" if firing else "✅"
    return f"  {mark} {datetime.now(UTC):%H:%M:%S} {first}{more}"
