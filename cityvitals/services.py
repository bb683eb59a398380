"""Composition of the long-running services: build pools and clients once, wire, run, stop."""

from __future__ import annotations

import asyncio
import logging
import math
import signal
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from cityvitals.configs import engine_config, gateway_config, ingest_config
from cityvitals.metrics_server import serve_metrics
from cityvitals.settings import Settings
from cityvitals.startup import load_vocabulary, prepare_when_available
from ingest.service import IngestService
from storage.pool import create_pool

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)


async def run_ingest(settings: Settings) -> None:
    prepared = await prepare_when_available(settings)
    pool = await create_pool(
        settings.database_url, min_size=2, max_size=4, application_name="cityvitals-ingest"
    )
    service = IngestService(ingest_config(settings), pool, prepared.backend)
    config = settings.ingest
    serve_metrics(
        service.metrics.registry, config.metrics_host, config.metrics_port, "ingest.metrics_port"
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop)
    try:
        await service.run()
    finally:
        await pool.close()
        log.info("ingest stopped")


async def run_alerts(settings: Settings) -> None:
    from alerts.engine.metrics import AlertMetrics
    from alerts.engine.service import Engine

    await prepare_when_available(settings)
    registry, _geography, _ = load_vocabulary(settings)
    alerts = settings.alerts
    pool = await create_pool(
        settings.database_url, min_size=1, max_size=4, application_name="cityvitals-alerts"
    )
    metrics = AlertMetrics()
    engine = Engine(engine_config(settings), pool, registry, metrics=metrics)
    serve_metrics(metrics.registry, alerts.metrics_host, alerts.metrics_port, "alerts.metrics_port")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, engine.stop)
    try:
        await engine.run()
    finally:
        await pool.close()
        log.info("alert engine %s stopped", alerts.engine_name)


def gateway_server(
    settings: Settings, *, graceful_s: int = 5, history_state: Path | None = None
) -> uvicorn.Config:
    import uvicorn  # here, not at the top: `cityvitals ingest` starts faster without it

    from gateway.app import create_app

    gateway = settings.gateway
    # The demo's backfill state, which /healthz repeats; no setting, as only the demo has one.
    config = replace(gateway_config(settings), history_state_path=history_state)
    return uvicorn.Config(
        create_app(config),
        host=gateway.host,
        port=gateway.port,
        log_config=None,  # our logging (cityvitals.logs), text or JSON
        lifespan="on",
        timeout_graceful_shutdown=graceful_s,  # live streams never end on their own
        server_header=False,
        # h11, named: the header limit below is h11's (httptools, when installed, would be
        # chosen instead and ignore it).
        http="h11",
        h11_max_incomplete_event_size=gateway.max_header_bytes,
        timeout_keep_alive=math.ceil(gateway.keep_alive_timeout),
        limit_concurrency=gateway.max_connections,
    )
