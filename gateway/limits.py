"""Request size limit: a body over `max_bytes` is refused with 413 before it is read whole.

A declared Content-Length over the limit is refused at once; a chunked body is counted as it
arrives and refused as soon as it passes the limit, so a client cannot make the gateway buffer
more than `max_bytes` of anything.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge


def too_large(max_bytes: int) -> str:
    return f"request body: over the limit of {max_bytes:,} bytes (gateway.max_request_bytes)"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: the app's handlers answer 413 (FastAPI turns any other
                    # exception raised while reading a body into a 400).
                    raise PayloadTooLarge(too_large(self.max_bytes), field="body")
            return message

        await self.app(scope, counting, send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "error": PayloadTooLarge.code,
                "detail": too_large(self.max_bytes),
                "field": "body",
                "problems": [],
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
