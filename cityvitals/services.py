"""Composition of the long-running services: build pools and clients once, wire, run, stop."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn

from alerts.engine import EngineConfig
from cityvitals.settings import Settings
from cityvitals.startup import load_vocabulary, prepare_when_available
from ingest.service import IngestService
from storage.pool import create_pool

log = logging.getLogger(__name__)


async def run_ingest(settings: Settings) -> None:
    prepared = await prepare_when_available(settings)
    registry, _ = load_vocabulary(settings)
    pool = await create_pool(
        settings.database_url, min_size=2, max_size=4, application_name="cityvitals-ingest"
    )
    service = IngestService(settings, pool, prepared.backend, registry)
    if settings.ingest.metrics_port:
        service.metrics.serve(settings.ingest.metrics_port)
        log.info("metrics on :%d/metrics", settings.ingest.metrics_port)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop)
    try:
        await service.run()
    finally:
        await pool.close()
        log.info("ingest stopped")


async def run_alerts(settings: Settings) -> None:
    from alerts.engine import Engine
    from alerts.metrics import AlertMetrics

    await prepare_when_available(settings)
    registry, _ = load_vocabulary(settings)
    alerts = settings.alerts
    pool = await create_pool(
        settings.database_url, min_size=1, max_size=4, application_name="cityvitals-alerts"
    )
    metrics = AlertMetrics()
    engine = Engine(engine_config(settings), pool, registry, metrics=metrics)
    if alerts.metrics_port:
        metrics.serve(alerts.metrics_port)
        log.info("metrics on :%d/metrics", alerts.metrics_port)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, engine.stop)
    try:
        await engine.run()
    finally:
        await pool.close()
        log.info("alert engine %s stopped", alerts.engine_name)


def engine_config(settings: Settings) -> EngineConfig:
    alerts = settings.alerts
    return EngineConfig(
        database_url=settings.database_url,
        rules_dir=alerts.rules_dir,
        receivers_path=alerts.receivers_path,
        tick_s=alerts.tick,
        lateness_s=alerts.lateness,
        reload_interval_s=alerts.reload_interval,
        name=alerts.engine_name,
        external_url=alerts.external_url,
        delivery_concurrency=alerts.delivery_concurrency,
    )


def gateway_config(settings: Settings, *, graceful_s: int = 5) -> uvicorn.Config:
    from gateway.app import create_app

    return uvicorn.Config(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_config=None,  # our logging (cityvitals.logs), text or JSON
        lifespan="on",
        timeout_graceful_shutdown=graceful_s,  # live streams never end on their own
        server_header=False,
    )
