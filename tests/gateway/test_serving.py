"""uvicorn as `cityvitals gateway` configures it (cityvitals.services.gateway_server): headers
that never end refused past gateway.max_header_bytes, idle keep-alive connections closed, and
past gateway.max_connections new requests refused, so slow or idle clients cannot pile up
without bound. (uvicorn has no timeout
for a client that sends its headers or body slowly: deploy/README.md says which proxy settings
take care of that.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.services import gateway_server
from tests.gateway.conftest import gateway_settings
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

GUARD_S = 30  # only a server that ignores its limits makes a test wait this long
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n"


@contextlib.asynccontextmanager
async def running(server: uvicorn.Server) -> AsyncIterator[int]:
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), timeout_s=GUARD_S)
        assert server.started, "the gateway did not start"
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def exchange(port: int, request: bytes) -> AsyncIterator[tuple[bytes, asyncio.StreamReader]]:
    """The status line the gateway answers `request` with, and the rest of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        yield await reader.readline(), reader
    finally:
        writer.close()


async def test_uvicorn_applies_the_gateway_limits(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> None:
    settings = gateway_settings(
        prepared.url,
        mqtt_broker.url,
        port=0,
        max_header_bytes=2_048,
        keep_alive_timeout=1,
        max_connections=10,
    )
    async with (
        asyncio.timeout(2 * GUARD_S),
        running(uvicorn.Server(gateway_server(settings))) as port,
    ):
        async with exchange(port, REQUEST + b"\r\n") as (ok, rest):
            assert ok.startswith(b"HTTP/1.1 200")
            # Left idle after its answer, the connection is closed by the server.
            async with asyncio.timeout(GUARD_S):
                while await rest.read(65_536):
                    pass

        # Headers that keep coming without an end are refused once past max_header_bytes.
        async with exchange(port, REQUEST + b"X-Filler: " + b"a" * 4_096) as (endless, _):
            assert endless.startswith(b"HTTP/1.1 400"), endless

        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(10)]
        async with exchange(port, REQUEST + b"\r\n") as (refused, _):
            assert refused.startswith(b"HTTP/1.1 503"), refused
        for _, writer in idle:
            writer.close()

        async def answered() -> bool:
            async with exchange(port, REQUEST + b"\r\n") as (status, _):
                return status.startswith(b"HTTP/1.1 200")

        await wait_until(answered, timeout_s=GUARD_S)
