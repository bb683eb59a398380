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

from alerts.notify.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

MAX_BODY = 1 << 20


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
        status = b"400 Bad Request"
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if length <= MAX_BODY:
                body = await reader.readexactly(length)
                status = self._take(headers, body)
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def _take(self, headers: dict[str, str], body: bytes) -> bytes:
        signed = verify_signature(
            self.secret,
            headers.get(TIMESTAMP_HEADER.lower(), ""),
            body,
            headers.get(SIGNATURE_HEADER.lower(), ""),
            datetime.now(UTC),
        )
        if not signed:
            print("  ✖ a webhook with a bad signature was refused", flush=True)
            return b"401 Unauthorized"
        key = headers.get(IDEMPOTENCY_HEADER.lower(), "")
        if key in self._seen:
            return b"200 OK"  # a retry of a message already shown
        self._seen.add(key)
        self.received += 1
        print(_line(json.loads(body)), flush=True)
        return b"200 OK"


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
