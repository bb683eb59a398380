"""`cityvitals ingest`: the MQTT consumer service, top to bottom.

    broker --MQTT 5--> transport (client, codec) --> inbox --> resolve --> commit --> PUBACK
                                                   (batch)   (ingest.    (storage.
                                                              resolve)    writer)

MQTT 5, QoS 1, a fixed client id and a persistent session (the broker queues while we are away).
Messages land in the inbox as the socket delivers them; batches of up to `max_batch` are resolved
and committed in receive order, two stages overlapping (batch N+1 is resolved while batch N is
committed). A batch is acknowledged only after its readings, dead letters and status changes are
committed in one transaction. A database error is retried for as long as it takes and meanwhile
nothing is acknowledged, so the broker stops sending at our receive maximum: backpressure, not
loss. A message delivered on a connection that has since dropped is committed but not
acknowledged; the broker redelivers it (DUP set) and the writer stores nothing twice.

The broker connection is re-established with backoff; SIGTERM (`stop`) drains: what was received
is committed and acknowledged before the service disconnects and leaves its session to the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from ingest.config import IngestConfig
from ingest.metrics import IngestMetrics
from ingest.resolve import Batch, Inbound, Resolver
from ingest.retrying import Stopped, until_done
from ingest.transport import MqttClient, MqttError, ProtocolError, Publish
from schemas.topics import STATUS_FILTER, TELEMETRY_FILTER
from storage.backend import Backend
from storage.errors import StorageError
from storage.pool import redact_dsn
from storage.writer import ReadingWriter, Row

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]
_RESUME_CHECK_S = 0.05  # how often a paused reader looks whether the inbox has drained


@dataclass(frozen=True)
class Committed:
    """What one commit stored; handed to `on_committed` (benchmarks, tests)."""

    messages: int
    inserted: int
    duplicates: int
    dead_letters: int
    committed_at: datetime
    newest: datetime | None
    rows: Sequence[Row] = ()  # the readings offered for this commit (new and duplicate)


def subscription_filters(shared_group: str | None) -> list[str]:
    filters = [TELEMETRY_FILTER, STATUS_FILTER]
    return [f"$share/{shared_group}/{f}" for f in filters] if shared_group else filters


class IngestService:
    def __init__(
        self,
        config: IngestConfig,
        pool: asyncpg.Pool,
        backend: Backend,
        *,
        metrics: IngestMetrics | None = None,
        on_committed: Callable[[Committed], None] | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self.metrics = metrics or IngestMetrics()
        self._on_committed = on_committed
        self._clock = clock
        self.resolver = Resolver(pool, policy=config.unknown_sensor_policy, limits=config.limits)
        self._writer = ReadingWriter(pool, backend)
        self._inbox: deque[Inbound] = deque()
        self._wake = asyncio.Event()  # the inbox got messages, or we are stopping
        self._draining = False
        self.unacknowledged = 0
        self._client: MqttClient | None = None
        self._generation = 0  # which connection delivered a message: acks go only to that one
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()  # set once subscribed the first time (tests wait on it)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await self._until_done(
            "loading sensor types and the catalog",
            lambda: self.resolver.check_types(self._clock(), force=True),
        )
        processing = asyncio.create_task(self._process())
        try:
            await self._stay_connected(processing)
        except Stopped:
            pass  # stopped while the broker was away
        finally:
            await self._drain(processing)

    # -- transport: connect, receive, acknowledge -------------------------------------------

    async def _stay_connected(self, processing: asyncio.Task[None]) -> None:
        while not self._stop.is_set():
            client = await until_done(
                self._connect,
                what=f"connecting to the broker at {redact_dsn(self._config.mqtt_url)}",
                retry_on=MqttError,
                log=log,
                first_wait_s=0.2,
                max_wait_s=self._config.max_backoff_s,
                stopping=self._stop,
            )
            self.ready.set()
            stopped = asyncio.create_task(self._stop.wait())
            waited: list[asyncio.Future[Any]] = [client.closed, stopped, processing]
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if processing.done():
                processing.result()  # a crash in processing ends the service, loudly
            if not client.closed.done():
                return  # stopping: keep the connection to acknowledge what we drain
            log.warning("lost the broker connection (%s); reconnecting", client.closed.result())

    async def _connect(self) -> MqttClient:
        config = self._config
        generation = self._generation + 1

        def receive(publishes: list[Publish]) -> None:
            self._offer(publishes, generation)
            # QoS 0 messages are outside the receive maximum: bound them by not reading.
            if len(self._inbox) > 2 * config.receive_maximum and self._client is not None:
                self._client.pause_reading()
                asyncio.get_running_loop().call_later(_RESUME_CHECK_S, self._resume_when_drained)

        client = await MqttClient.connect(
            config.mqtt_url,
            config.client_id,
            on_publish=receive,
            clean_start=False,
            session_expiry=int(config.session_expiry_s),
            receive_maximum=config.receive_maximum,
            keepalive=config.keepalive_s,
            ca_file=config.mqtt_ca_file,
        )
        self._client, self._generation = client, generation
        self.metrics.reconnects.inc()
        try:
            await client.subscribe(subscription_filters(config.shared_group))
        except (MqttError, ProtocolError, TimeoutError) as error:
            client.close()  # connected but not subscribed: start over on a new connection
            raise MqttError(f"subscribing failed: {error!r}") from error
        self._report_session(client)
        return client

    def _report_session(self, client: MqttClient) -> None:
        resumed = client.session_present
        log.info(
            "subscribed at %s as %s (session %s)",
            redact_dsn(self._config.mqtt_url),
            self._config.client_id,
            "resumed" if resumed else "new",
        )
        if not resumed and self._generation > 1:
            # We had a session a moment ago: the broker dropped it (expired, or someone else
            # connected with our client id and started clean), and with it whatever it had
            # queued for us. Not ours to recover, but whoever runs the broker must know.
            self.metrics.sessions_lost.inc()
            log.error(
                "the broker had no session for client id %s on reconnect: messages it queued "
                "for this worker while we were away are lost. Is another client using this "
                "client id? (bind service client ids to their accounts; see deploy/README.md)",
                self._config.client_id,
            )

    def _offer(self, publishes: list[Publish], generation: int) -> None:
        now = self._clock()
        self._inbox.extend(
            Inbound(p.topic, p.payload, p.packet_id, generation, now, p.dup) for p in publishes
        )
        self.unacknowledged += len(publishes)
        self.metrics.received.inc(len(publishes))
        self.metrics.in_flight.set(self.unacknowledged)
        self._wake.set()

    def _resume_when_drained(self) -> None:
        client = self._client
        if client is None or not client.connected:
            return
        if len(self._inbox) <= self._config.receive_maximum:
            client.resume_reading()
        else:
            asyncio.get_running_loop().call_later(_RESUME_CHECK_S, self._resume_when_drained)

    def _acknowledge(self, messages: Sequence[Inbound]) -> None:
        by_generation: dict[int, list[int]] = {}
        for message in messages:
            if message.packet_id:
                by_generation.setdefault(message.generation, []).append(message.packet_id)
        client = self._client
        for generation, packet_ids in by_generation.items():
            # Acks of an earlier connection are void: the broker redelivers those messages.
            if client is not None and generation == self._generation and client.connected:
                with contextlib.suppress(MqttError):  # it just went: redelivered too
                    client.ack(packet_ids)
        self.unacknowledged -= len(messages)
        self.metrics.in_flight.set(self.unacknowledged)

    # -- batches: resolve, then commit, then acknowledge ------------------------------------

    async def _process(self) -> None:
        resolved: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=1)
        resolving = asyncio.create_task(self._resolve_batches(resolved))
        try:
            while (batch := await resolved.get()) is not None:
                await self._commit(batch)
                self._acknowledge(batch.messages)
        finally:
            resolving.cancel()
        await asyncio.gather(resolving, return_exceptions=True)

    async def _resolve_batches(self, resolved: asyncio.Queue[Batch | None]) -> None:
        while True:
            if not self._inbox:
                if self._draining:
                    await resolved.put(None)
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            count = min(len(self._inbox), self._config.max_batch)
            messages = [self._inbox.popleft() for _ in range(count)]
            await resolved.put(await self._resolve(messages))

    async def _resolve(self, messages: list[Inbound]) -> Batch:
        # The clock is read per try: a batch resolved after an outage is judged at that time.
        return await self._until_done(
            "resolving a batch", lambda: self.resolver.resolve(messages, self._clock())
        )

    async def _commit(self, batch: Batch) -> None:
        started = time.perf_counter()
        result = await self._until_done(
            "committing a batch",
            lambda: self._writer.write(
                batch.rows, batch.dead_letters, batch.status_changes, redelivered=batch.redelivered
            ),
        )
        metrics = self.metrics
        metrics.commit_seconds.observe(time.perf_counter() - started)
        metrics.batch_messages.observe(len(batch.messages))
        metrics.stored.inc(result.inserted)
        metrics.duplicates.inc(result.duplicates)
        for letter in batch.dead_letters:
            metrics.dead_letters.labels(letter.reason).inc()
        committed_at = self._clock()
        if batch.newest is not None:
            metrics.lag_seconds.observe(max(0.0, (committed_at - batch.newest).total_seconds()))
        if self._on_committed is not None:
            self._on_committed(
                Committed(
                    len(batch.messages),
                    result.inserted,
                    result.duplicates,
                    len(batch.dead_letters),
                    committed_at,
                    batch.newest,
                    batch.rows,
                )
            )

    async def _until_done(self, what: str, action: Callable[[], Awaitable[T]]) -> T:
        """Storage errors are waited out, never dropped: nothing is acknowledged meanwhile."""
        return await until_done(
            action,
            what=what,
            retry_on=StorageError,
            log=log,
            max_wait_s=self._config.max_backoff_s,
            on_retry=self.metrics.db_retries.inc,
        )

    async def _drain(self, processing: asyncio.Task[None]) -> None:
        """Commit and acknowledge what was received, then leave the session to the broker."""
        if self._client is not None:
            self._client.pause_reading()
        self._draining = True
        self._wake.set()
        try:
            async with asyncio.timeout(self._config.drain_timeout_s):
                await asyncio.shield(processing)
        except TimeoutError:
            log.warning(
                "gave up draining after %.0fs; %d unacknowledged messages will be redelivered",
                self._config.drain_timeout_s,
                self.unacknowledged,
            )
            processing.cancel()
        if self._client is not None:
            await self._client.disconnect()
