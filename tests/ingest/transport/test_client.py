"""The asyncio MQTT client against the real broker."""

from __future__ import annotations

import asyncio

import pytest

from cityvitals.embedded import EmbeddedMosquitto, free_port
from ingest.transport.client import MqttClient, MqttError
from ingest.transport.codec import Publish


class Arrivals:
    """Messages as the client hands them over, and a way to wait for the n-th."""

    def __init__(self) -> None:
        self.messages: list[Publish] = []
        self._arrived = asyncio.Event()

    def add(self, publishes: list[Publish]) -> None:
        self.messages.extend(publishes)
        self._arrived.set()

    async def count(self, n: int, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while len(self.messages) < n:
                self._arrived.clear()
                await self._arrived.wait()


async def test_unreachable_broker_is_reported_with_its_address() -> None:
    port = free_port()
    with pytest.raises(MqttError, match=f"cannot connect to 127.0.0.1:{port}"):
        await MqttClient.connect(f"mqtt://127.0.0.1:{port}", "c1", on_publish=lambda _: None)


async def test_unacknowledged_messages_come_back_after_reconnect(
    mqtt_broker: EmbeddedMosquitto,
) -> None:
    received = Arrivals()
    consumer = await MqttClient.connect(
        mqtt_broker.url,
        "client-test-redelivery",
        on_publish=received.add,
        clean_start=True,
    )
    await consumer.subscribe(["client/test/#"])
    producer = await MqttClient.connect(
        mqtt_broker.url, "client-test-producer", on_publish=lambda _: None, clean_start=True
    )
    for n in range(1, 4):
        producer.publish("client/test/x", f"m{n}".encode(), qos=1, packet_id=n)
    await received.count(3)
    consumer.ack([received.messages[0].packet_id])  # only the first
    # The broker answers a SUBSCRIBE after handling what came before it: the ack is in.
    await consumer.subscribe(["client/test/fence"])
    await consumer.disconnect()
    again = Arrivals()
    resumed = await MqttClient.connect(
        mqtt_broker.url,
        "client-test-redelivery",
        on_publish=again.add,
        clean_start=False,
    )
    assert resumed.session_present
    await again.count(2)
    assert [m.payload for m in again.messages] == [b"m2", b"m3"]
    assert all(m.dup for m in again.messages)
    resumed.ack([m.packet_id for m in again.messages])
    await resumed.disconnect()
    await producer.disconnect()
