"""The gateway on a real socket (uvicorn in the test's event loop): for the live stream, whose
responses never end (httpx's ASGI transport waits for the end), and for schemathesis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn

from cityvitals.configs import gateway_config
from cityvitals.settings import Settings
from gateway.app import create_app
from gateway.keys import create_key
from gateway.state import GatewayState
from tests.gateway.conftest import ROLES
from tests.waiting import wait_until


@dataclass(frozen=True)
class Served:
    url: str
    keys: dict[str, str]
    state: GatewayState


@contextlib.asynccontextmanager
async def serving(settings: Settings, port: int = 0) -> AsyncIterator[Served]:
    """The gateway on 127.0.0.1:`port` (0: any free port)."""
    app = create_app(gateway_config(settings))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()
            raise AssertionError("the gateway stopped before it started")
        return bool(server.started)

    await wait_until(started, timeout_s=30)
    port = server.servers[0].sockets[0].getsockname()[1]
    state: GatewayState = app.state.gateway
    keys = {}
    async with state.pool.acquire() as conn:
        for role in ROLES:
            _, keys[role] = await create_key(conn, f"served-{role}", role)
    try:
        yield Served(f"http://127.0.0.1:{port}", keys, state)
    finally:
        server.should_exit = True
        await task
