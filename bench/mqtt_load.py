"""A fast QoS 1 publisher for benchmarks and tests: pipelined up to the broker's receive maximum.

A paho publisher in Python tops out near 14k messages/s; this one writes many PUBLISH packets per
socket write and counts PUBACKs, so the ingest rather than the publisher sets the pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from ingest.transport.client import MqttClient
from ingest.transport.codec import encode_publish

Message = tuple[str, bytes]


class Publisher:
    def __init__(self, client: MqttClient, window: int) -> None:
        self._client = client
        self._window = min(window, client.server_receive_maximum)
        self._in_flight = 0
        self._room = asyncio.Event()
        self._room.set()
        self.acked = 0
        self._next_id = 0

    @classmethod
    async def connect(cls, url: str, client_id: str, window: int = 20_000) -> Publisher:
        holder: list[Publisher] = []
        client = await MqttClient.connect(
            url,
            client_id,
            on_publish=lambda _: None,
            on_puback=lambda ids: holder[0]._acked(len(ids)),
            clean_start=True,
            session_expiry=0,
        )
        publisher = cls(client, window)
        holder.append(publisher)
        return publisher

    def _acked(self, count: int) -> None:
        self._in_flight -= count
        self.acked += count
        if self._in_flight < self._window:
            self._room.set()

    async def publish(
        self,
        messages: Iterable[Message],
        *,
        rate: float | None = None,
        stamp: Callable[[str, bytes], bytes] | None = None,
    ) -> int:
        """Publish at QoS 1, at most `rate` messages/s if given; returns how many were sent.

        `stamp(topic, payload)` may rewrite the payload right before sending (e.g. the publish
        time, for latency measurement)."""
        sent = 0
        started = time.perf_counter()
        chunk: list[bytes] = []

        def flush() -> None:
            if chunk:
                self._client.write_raw(b"".join(chunk))
                chunk.clear()

        for topic, payload in messages:
            if rate is not None:
                delay = started + sent / rate - time.perf_counter()
                if delay > 0:
                    flush()
                    await asyncio.sleep(delay)
            while self._in_flight >= self._window:
                flush()
                self._room.clear()
                await self._room.wait()
            self._next_id = self._next_id % 65535 + 1
            body = stamp(topic, payload) if stamp else payload
            chunk.append(encode_publish(topic, body, qos=1, packet_id=self._next_id))
            self._in_flight += 1
            sent += 1
            if len(chunk) >= 256:
                flush()
                await asyncio.sleep(0)
        flush()
        return sent

    async def wait_acked(self, count: int, timeout_s: float = 120.0) -> None:
        async with asyncio.timeout(timeout_s):
            while self.acked < count:
                self._room.clear()
                await self._room.wait()

    async def close(self) -> None:
        await self._client.disconnect()
