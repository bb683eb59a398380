"""The receiving end, for the demo's duty officer, benchmarks and tests: one HTTP/1.1 request
read from a stream, its signature checked, an answer written. Enough for a webhook endpoint on
127.0.0.1; a production receiver sits behind a real web server and uses `verify_request` alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from alerts.notify.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

__all__ = ["Request", "read_request", "verify_request", "write_response"]

MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Request:
    target: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def idempotency_key(self) -> str:
        return self.headers.get(IDEMPOTENCY_HEADER.lower(), "")


async def read_request(reader: asyncio.StreamReader, max_body: int = MAX_BODY) -> Request:
    """Raises ValueError on a malformed or oversized request, IncompleteReadError on EOF."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) != 3:
        raise ValueError(f"bad request line {head[0]!r}")
    headers = {}
    for line in head[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if not 0 <= length <= max_body:
        raise ValueError(f"body of {length} bytes")
    return Request(parts[1], headers, await reader.readexactly(length))


def verify_request(secret: str, request: Request, now: datetime | None = None) -> bool:
    """Our HMAC signature over timestamp, idempotency key and body holds, and the timestamp is
    recent."""
    return verify_signature(
        secret,
        request.headers.get(TIMESTAMP_HEADER.lower(), ""),
        request.headers.get(IDEMPOTENCY_HEADER.lower(), ""),
        request.body,
        request.headers.get(SIGNATURE_HEADER.lower(), ""),
        now or datetime.now(UTC),
    )


async def write_response(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str | int] | None = None,
) -> None:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    fields = {**(headers or {}), "Content-Length": len(body), "Connection": "close"}
    lines += [f"{name}: {value}" for name, value in fields.items()]
    writer.write("\r\n".join([*lines, "", ""]).encode("latin-1") + body)
    await writer.drain()
