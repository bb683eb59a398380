"""The live stream: Server-Sent Events of vital signs and alert transitions.

One poller per process, running only while someone listens: it reads new rows of
`alert_transitions` every `alerts_every` and the vital signs every `vital_signs_every`, and hands
each event to every subscriber's bounded queue. A client that falls behind by a whole queue is
disconnected rather than buffered without bound; it reconnects with `Last-Event-ID` (the id of
the last alert event it saw) and gets what it missed from the audit trail, up to `REPLAY_MAX`.
At most `max_streams` clients at once, and at most `max_per_key` of them with one API key, so one
viewer key cannot take every place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from alerts import store
from gateway.errors import TooBusy
from gateway.metrics import GatewayMetrics
from gateway.models_city import TransitionOut, VitalSigns
from gateway.vital_signs import VitalSignsSource
from storage.errors import StorageError
from storage.pool import connection

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
REPLAY_MAX = 1_000
BATCH = 500


@dataclass(frozen=True)
class Event:
    kind: str  # "vital_signs" | "alert"
    data: dict[str, Any]
    id: int | None = None  # alert events: the transition id, for Last-Event-ID
    domain: str | None = None
    subdistrict: str | None = None

    def encode(self) -> bytes:
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.kind}\ndata: ".encode() + orjson.dumps(self.data) + b"\n\n"


@dataclass(eq=False)
class Subscriber:
    key_id: str  # the API key's id: streams are capped per key
    kinds: frozenset[str]
    domain: str | None
    subdistrict: str | None
    queue: asyncio.Queue[Event | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )

    def wants(self, event: Event) -> bool:
        if event.kind not in self.kinds:
            return False
        if self.domain is not None and event.domain not in (None, self.domain):
            return False
        if self.subdistrict is not None and event.kind == "alert":
            return event.subdistrict == self.subdistrict
        return True


def alert_event(row: dict[str, Any]) -> Event:
    data = TransitionOut.model_validate(row).model_dump(mode="json")
    return Event("alert", data, row["id"], row["domain"], row["subdistrict"])


class StreamHub:
    def __init__(
        self,
        pool: asyncpg.Pool,
        vital_signs: VitalSignsSource,
        metrics: GatewayMetrics,
        *,
        alerts_every_s: float,
        vital_signs_every_s: float,
        max_streams: int,
    ) -> None:
        self._pool = pool
        self._vital_signs = vital_signs
        self._metrics = metrics
        self._alerts_every_s = alerts_every_s
        self._vital_signs_every_s = vital_signs_every_s
        self._max_streams = max_streams
        self._subscribers: set[Subscriber] = set()
        self._poller: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()  # one poller, however many subscribe at once
        self._last_id = 0

    async def subscribe(self, subscriber: Subscriber, *, max_per_key: int) -> None:
        """Count `subscriber` in, or TooBusy: max_streams in all, `max_per_key` per API key."""
        if len(self._subscribers) >= self._max_streams:
            raise TooBusy(f"{self._max_streams} live streams are open (gateway.max_streams)")
        held = self.open_streams(subscriber.key_id)
        if held >= max_per_key:
            raise TooBusy(
                f"API key {subscriber.key_id} has {held} live streams open "
                "(gateway.max_streams_per_key)"
            )
        # Counted before the first await, so streams subscribing meanwhile see this one.
        self._subscribers.add(subscriber)
        self._metrics.streams.set(len(self._subscribers))
        try:
            async with self._starting:
                if self._poller is None or self._poller.done():
                    async with connection(self._pool, "starting the live stream") as conn:
                        self._last_id = await store.last_transition_id(conn)
                    self._poller = asyncio.create_task(self._poll(), name="gateway-stream-poller")
        except BaseException:
            self.unsubscribe(subscriber)
            raise

    def open_streams(self, key_id: str | None = None) -> int:
        """Streams open now: all, or those of one API key."""
        return sum(1 for s in self._subscribers if key_id in (None, s.key_id))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self._metrics.streams.set(len(self._subscribers))
        if not self._subscribers and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def replay(self, after_id: int, subscriber: Subscriber) -> list[Event]:
        """Alert events after `after_id` up to what the poller has published (then live)."""
        async with connection(self._pool, "replaying alert events") as conn:
            rows = await store.transitions_after(conn, after_id, REPLAY_MAX)
        return [e for e in map(alert_event, rows) if subscriber.wants(e)]

    async def close(self) -> None:
        for subscriber in list(self._subscribers):
            self._drop(subscriber)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _poll(self) -> None:
        next_vitals = 0.0
        while self._subscribers:
            try:
                async with connection(self._pool, "polling alert transitions") as conn:
                    rows = await store.transitions_after(conn, self._last_id, BATCH)
                for row in rows:
                    self._publish(alert_event(row))
                    self._last_id = row["id"]
                wanted = any("vital_signs" in s.kinds for s in self._subscribers)
                if wanted and time.monotonic() >= next_vitals:
                    next_vitals = time.monotonic() + self._vital_signs_every_s
                    for event in vital_sign_events(await self._vital_signs.current()):
                        self._publish(event)
                if len(rows) == BATCH:
                    continue  # a burst: catch up before sleeping
            except StorageError as error:
                log.warning("live stream: database unavailable, retrying: %s", error)
            except Exception:  # a bug must not silence every stream: log it, keep polling
                log.exception("live stream: polling failed")
            await asyncio.sleep(self._alerts_every_s)

    def _publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.wants(event):
                try:
                    subscriber.queue.put_nowait(event)
                except asyncio.QueueFull:
                    log.info("live stream: dropping a client %d events behind", QUEUE_SIZE)
                    self._drop(subscriber)

    def _drop(self, subscriber: Subscriber) -> None:
        self.unsubscribe(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)  # the stream ends; the client reconnects


def vital_sign_events(signs: VitalSigns) -> list[Event]:
    """One event per domain, so a client following one domain gets only that."""
    return [
        Event(
            "vital_signs",
            {"at": signs.at.isoformat(), **domain.model_dump(mode="json")},
            domain=domain.domain,
        )
        for domain in signs.domains
    ]


async def sse(
    subscriber: Subscriber,
    first: list[Event],
    keepalive_s: float,
) -> AsyncGenerator[bytes, None]:
    """The body of one stream: `first` (current vital signs, replayed alerts), then live.

    The response that sends it unsubscribes, however the stream ends (gateway.streaming)."""
    seen = max((e.id for e in first if e.id is not None), default=0)
    yield b"retry: 3000\n: connected\n\n"
    for event in first:
        yield event.encode()
    while True:
        try:
            async with asyncio.timeout(keepalive_s):
                received = await subscriber.queue.get()
        except TimeoutError:
            yield b": keep-alive\n\n"
            continue
        if received is None:
            return
        event = received
        if event.id is not None and event.id <= seen:
            continue  # already sent in the replay
        yield event.encode()
