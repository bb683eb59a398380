"""Received messages -> resolved batches -> one commit -> acknowledgements, in receive order.

Two stages overlap: while batch N is being committed, batch N+1 is decoded. A batch is
acknowledged only after its readings, dead letters and status changes are all committed; a
database error is retried with capped backoff for as long as it takes, and meanwhile nothing is
acknowledged, so the broker stops sending once our receive maximum is reached: backpressure, not
loss. A message delivered on a connection that has since dropped is committed but not
acknowledged: the broker redelivers it and the idempotent writer stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import asyncpg

from ingest.metrics import IngestMetrics
from ingest.mqtt_codec import Publish
from ingest.processor import Processor
from ingest.resolver import Inbound, Resolved, Resolver
from storage.errors import StorageError
from storage.writer import ReadingWriter, Row

log = logging.getLogger(__name__)

Acker = Callable[[int, list[int]], None]  # (connection generation, packet ids)
Clock = Callable[[], datetime]
P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Prepared:
    messages: list[Inbound]
    resolved: Resolved


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


class Pipeline:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        writer: ReadingWriter,
        resolver: Resolver,
        metrics: IngestMetrics,
        acker: Acker,
        max_batch: int = 5_000,
        max_backoff_s: float = 10.0,
        clock: Clock = lambda: datetime.now(UTC),
        on_committed: Callable[[Committed], None] | None = None,
    ) -> None:
        self._processor = Processor(pool, writer, resolver, now=clock())
        self._metrics = metrics
        self._acker = acker
        self._max_batch = max_batch
        self._max_backoff_s = max_backoff_s
        self._clock = clock
        self._on_committed = on_committed
        self._inbox: deque[Inbound] = deque()
        self._wake = asyncio.Event()
        self._stopping = False
        self.unacknowledged = 0

    @property
    def backlog(self) -> int:
        return len(self._inbox)

    def offer(self, publishes: list[Publish], generation: int) -> None:
        """Called from the MQTT protocol for every socket read that carried messages."""
        now = self._clock()
        self._inbox.extend(
            Inbound(p.topic, p.payload, p.packet_id, generation, now) for p in publishes
        )
        self.unacknowledged += len(publishes)
        self._metrics.received.inc(len(publishes))
        self._metrics.in_flight.set(self.unacknowledged)
        self._wake.set()

    def stop(self) -> None:
        """Finish what has been received, then return from `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        ready: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=1)
        decoder = asyncio.create_task(self._decode_loop(ready))
        try:
            while (prepared := await ready.get()) is not None:
                await self._commit(prepared)
                self._acknowledge(prepared.messages)
        finally:
            decoder.cancel()
        await asyncio.gather(decoder, return_exceptions=True)

    async def _decode_loop(self, ready: asyncio.Queue[Prepared | None]) -> None:
        while True:
            if not self._inbox:
                if self._stopping:
                    await ready.put(None)
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            count = min(len(self._inbox), self._max_batch)
            batch = [self._inbox.popleft() for _ in range(count)]
            await ready.put(Prepared(batch, await self._resolve(batch)))

    async def _resolve(self, batch: list[Inbound]) -> Resolved:
        # Registering sensors and reloading the catalog or types may need the database.
        return await self._retrying(
            "resolving a batch", self._processor.resolve, batch, self._clock()
        )

    async def _commit(self, prepared: Prepared) -> None:
        resolved = prepared.resolved
        started = time.perf_counter()
        result = await self._retrying("committing a batch", self._processor.store, resolved)
        metrics = self._metrics
        metrics.commit_seconds.observe(time.perf_counter() - started)
        metrics.batch_messages.observe(len(prepared.messages))
        metrics.stored.inc(result.inserted)
        metrics.duplicates.inc(result.duplicates)
        for letter in resolved.dead_letters:
            metrics.dead_letters.labels(letter.reason).inc()
        committed_at = self._clock()
        if resolved.newest is not None:
            metrics.lag_seconds.observe(max(0.0, (committed_at - resolved.newest).total_seconds()))
        if self._on_committed is not None:
            self._on_committed(
                Committed(
                    len(prepared.messages),
                    result.inserted,
                    result.duplicates,
                    len(resolved.dead_letters),
                    committed_at,
                    resolved.newest,
                    resolved.rows,
                )
            )

    async def _retrying(
        self, what: str, action: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `action` until it succeeds: storage errors are waited out, never dropped."""
        delay = 0.05
        while True:
            try:
                return await action(*args, **kwargs)
            except StorageError as error:
                self._metrics.db_retries.inc()
                log.warning("%s failed, retrying in %.2fs: %s", what, delay, error)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self._max_backoff_s)

    def _acknowledge(self, messages: list[Inbound]) -> None:
        by_generation: dict[int, list[int]] = {}
        for message in messages:
            if message.packet_id:
                by_generation.setdefault(message.generation, []).append(message.packet_id)
        for generation, packet_ids in by_generation.items():
            self._acker(generation, packet_ids)
        self.unacknowledged -= len(messages)
        self._metrics.in_flight.set(self.unacknowledged)
