"""The FastAPI application: `create_app(config)`; uvicorn serves it (`cityvitals gateway`).

The lifespan builds everything once (the pool, the HTTP ingest's resolver and writer, the
live-stream hub) and keeps it on `app.state.gateway`; nothing lives in module globals, so tests
run several apps side by side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from gateway import handlers
from gateway.config import GatewayConfig
from gateway.hosts import TrustedHostsMiddleware
from gateway.limits import BodyLimitMiddleware
from gateway.metrics import GatewayMetrics, MetricsMiddleware
from gateway.openapi import TAGS
from gateway.routes import (
    alerts,
    console,
    console_api,
    dead_letters,
    docs,
    export,
    ingest,
    keys,
    ops,
    readings,
    registry,
    sensors,
    silences,
    stream,
    vital_signs,
)
from gateway.state import Clock, GatewayState
from gateway.stream import StreamHub
from gateway.vital_signs import VitalSignsSource
from ingest.resolve import Resolver
from storage.backend import recorded_backend
from storage.errors import BackendError
from storage.pool import create_pool
from storage.writer import ReadingWriter

log = logging.getLogger(__name__)
POOL_CLOSE_TIMEOUT_S = 10.0
_MODULES = (ops, registry, sensors, readings, export, vital_signs, alerts, silences)
ROUTERS = tuple(m.router for m in (*_MODULES, ingest, dead_letters, stream, keys, console_api))
# Open without a key: the console's pages and files hold no data (the pages ask the API, with
# the key the person signed in with), and /docs is the API's public description.
OPEN_ROUTERS = (console.router,)

DESCRIPTION = """
The HTTP API of CityVitals, the sensor backbone of a city-operations centre (一网统管).

Every endpoint but `/healthz` and `/readyz` needs an API key, sent as `X-API-Key: <key>` or
`Authorization: Bearer <key>` (`cityvitals keys create`). Roles: **viewer** reads everything;
**operator** also acts on alerts and silences and reads dead letters; **admin** also changes the
registry and sensors, replays dead letters and manages keys; **ingest** may only post readings.

Errors are JSON `{"error": code, "detail": sentence, "field": name, "problems": [...]}` with a
4xx status (503 while the database is unreachable); `detail` always names the field concerned.
"""


def create_app(config: GatewayConfig, *, clock: Clock | None = None) -> FastAPI:
    now: Clock = clock or (lambda: datetime.now(UTC))
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = await _start(config, metrics, now)
        try:
            yield
        finally:
            state: GatewayState = app.state.gateway
            await state.hub.close()
            try:  # connections still out (a stream cut off mid-query) must not hang the exit
                await asyncio.wait_for(state.pool.close(), POOL_CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.warning("closing the database pool timed out; terminating it")
                state.pool.terminate()

    app = FastAPI(
        title="CityVitals gateway",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        openapi_url="/openapi.json" if config.docs else None,
        docs_url=None,  # served by routes/docs.py from the gateway's own Swagger UI files
        redoc_url=None,
        # A redirect to the path without its trailing slash would be built from the request's
        # Host header: a link to any host a client names. The API has exact paths instead.
        redirect_slashes=False,
    )
    handlers.install(app)
    for router in (*ROUTERS, *OPEN_ROUTERS):
        app.include_router(router)
    if config.docs:
        app.include_router(docs.router)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_request_bytes)
    if "*" not in config.trusted_hosts:
        app.add_middleware(TrustedHostsMiddleware, patterns=config.trusted_hosts)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


async def _start(config: GatewayConfig, metrics: GatewayMetrics, clock: Clock) -> GatewayState:
    pool = await create_pool(
        config.database_url,
        min_size=2,
        max_size=config.pool_size,
        application_name="cityvitals-gateway",
        statement_timeout_s=config.statement_timeout,
        server_settings={"work_mem": config.work_mem},
    )
    try:
        async with pool.acquire() as conn:
            backend = await recorded_backend(conn)
            if backend is None:
                raise BackendError("the database is not migrated yet: run `cityvitals db migrate`")
        resolver = Resolver(
            pool,
            policy=config.unknown_sensor_policy,
            limits=config.ingest_limits,
            source="http",
        )
        await resolver.check_types(clock(), force=True)
        vital = VitalSignsSource(
            pool,
            clock,
            config.geography,
            config.vital_signs_ttl,
            on_compute=metrics.vital_signs_computed.inc,
        )
        hub = StreamHub(
            pool,
            vital,
            metrics,
            alerts_every_s=config.stream_alerts_every,
            vital_signs_every_s=config.stream_vital_signs_every,
            max_streams=config.max_streams,
        )
    except BaseException:
        await pool.close()
        raise
    return GatewayState(
        config=config,
        pool=pool,
        backend=backend,
        resolver=resolver,
        writer=ReadingWriter(pool, backend),
        metrics=metrics,
        vital_signs=vital,
        hub=hub,
        exports=asyncio.Semaphore(config.max_exports),
        clock=clock,
    )
