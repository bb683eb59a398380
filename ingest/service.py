"""`cityvitals ingest`: the MQTT consumer service.

MQTT 5, QoS 1, a fixed client id and a persistent session (the broker queues while we are away),
acknowledgement only after commit, reconnection to the broker with capped backoff, and a graceful
stop that commits and acknowledges what was received before disconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from cityvitals.settings import Settings
from ingest.metrics import IngestMetrics
from ingest.mqtt_client import MqttClient, MqttError
from ingest.mqtt_codec import Publish
from ingest.pipeline import Committed, Pipeline
from ingest.resolver import Limits, Resolver
from schemas.registry import Registry
from schemas.telemetry import validators_for
from schemas.topics import STATUS_FILTER, TELEMETRY_FILTER
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.pool import connection, redact_dsn
from storage.writer import ReadingWriter

log = logging.getLogger(__name__)


def resolver_limits(settings: Settings) -> Limits:
    """The payload limits of the ingest settings; HTTP ingest applies the same."""
    config = settings.ingest
    max_age = config.max_age or settings.storage.raw_retention_days * 86400.0
    return Limits(
        max_payload_bytes=config.max_payload_bytes,
        max_reports=config.max_reports_per_message,
        max_future=timedelta(seconds=config.max_future),
        max_age=timedelta(seconds=max_age),
    )


def subscription_filters(shared_group: str | None) -> list[str]:
    filters = [TELEMETRY_FILTER, STATUS_FILTER]
    return [f"$share/{shared_group}/{f}" for f in filters] if shared_group else filters


class IngestService:
    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        backend: Backend,
        registry: Registry,
        *,
        metrics: IngestMetrics | None = None,
        on_committed: Callable[[Committed], None] | None = None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._backend = backend
        self._registry = registry
        self.metrics = metrics or IngestMetrics()
        self._on_committed = on_committed
        self._client: MqttClient | None = None
        self._generation = 0
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()  # set once subscribed the first time (tests wait on it)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        config = self._settings.ingest
        async with connection(self._pool, "loading the catalog") as conn:
            catalog = await load_catalog(conn)
        resolver = Resolver(
            validators_for(self._registry),
            catalog,
            self._settings.unknown_sensor_policy,
            resolver_limits(self._settings),
        )
        pipeline = Pipeline(
            pool=self._pool,
            writer=ReadingWriter(self._pool, self._backend),
            resolver=resolver,
            metrics=self.metrics,
            acker=self._ack,
            max_batch=config.max_batch,
            max_backoff_s=config.max_backoff,
            on_committed=self._on_committed,
        )
        processing = asyncio.create_task(pipeline.run())
        try:
            await self._stay_connected(pipeline, processing)
        finally:
            await self._drain(pipeline, processing)

    async def _stay_connected(self, pipeline: Pipeline, processing: asyncio.Task[None]) -> None:
        config = self._settings.ingest
        delay = 0.2
        while not self._stop.is_set():
            try:
                client = await self._connect(pipeline)
            except MqttError as error:
                log.warning("broker unavailable, retrying in %.1fs: %s", delay, error)
                await self._sleep_unless_stopped(delay * (0.5 + random.random()))
                delay = min(delay * 2, config.max_backoff)
                continue
            delay = 0.2
            self.ready.set()
            stopped = asyncio.create_task(self._stop.wait())
            waited: list[asyncio.Future[Any]] = [client.closed, stopped, processing]
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if processing.done():
                processing.result()  # a crash in the pipeline ends the service, loudly
            if not client.closed.done():
                return  # stopping: keep the connection to acknowledge what we drain
            log.warning("lost the broker connection (%s); reconnecting", client.closed.result())

    async def _connect(self, pipeline: Pipeline) -> MqttClient:
        config = self._settings.ingest
        generation = self._generation + 1

        def receive(publishes: list[Publish]) -> None:
            pipeline.offer(publishes, generation)
            # QoS 0 messages are outside the receive maximum: bound them by not reading.
            if pipeline.backlog > 2 * config.receive_maximum and self._client is not None:
                self._client.pause_reading()
                asyncio.get_running_loop().call_later(0.05, self._resume_when_drained, pipeline)

        client = await MqttClient.connect(
            self._settings.mqtt_url,
            config.client_id,
            on_publish=receive,
            clean_start=False,
            session_expiry=int(config.session_expiry),
            receive_maximum=config.receive_maximum,
            keepalive=config.keepalive,
            ca_file=self._settings.mqtt_ca_file,
        )
        self._client, self._generation = client, generation
        self.metrics.reconnects.inc()
        await client.subscribe(subscription_filters(config.shared_group))
        log.info(
            "connected to %s as %s (session %s)",
            redact_dsn(self._settings.mqtt_url),
            config.client_id,
            "resumed" if client.session_present else "new",
        )
        return client

    def _resume_when_drained(self, pipeline: Pipeline) -> None:
        client = self._client
        if client is None or not client.connected:
            return
        if pipeline.backlog <= self._settings.ingest.receive_maximum:
            client.resume_reading()
        else:
            asyncio.get_running_loop().call_later(0.05, self._resume_when_drained, pipeline)

    def _ack(self, generation: int, packet_ids: list[int]) -> None:
        client = self._client
        if client is not None and generation == self._generation and client.connected:
            with contextlib.suppress(MqttError):
                client.ack(packet_ids)

    async def _drain(self, pipeline: Pipeline, processing: asyncio.Task[None]) -> None:
        """Commit and acknowledge what was received, then leave the session to the broker."""
        if self._client is not None:
            self._client.pause_reading()
        pipeline.stop()
        try:
            async with asyncio.timeout(self._settings.ingest.drain_timeout):
                await asyncio.shield(processing)
        except TimeoutError:
            log.warning(
                "gave up draining after %.0fs; %d unacknowledged messages will be redelivered",
                self._settings.ingest.drain_timeout,
                pipeline.unacknowledged,
            )
            processing.cancel()
        if self._client is not None:
            await self._client.disconnect()

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
