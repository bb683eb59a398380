"""The asyncio MQTT client against the real broker."""

from __future__ import annotations

import asyncio

import pytest

from cityvitals.embedded import EmbeddedMosquitto, free_port
from ingest.transport.client import MqttClient, MqttError
from ingest.transport.codec import Publish


async def test_unreachable_broker_is_reported_with_its_address() -> None:
    port = free_port()
    with pytest.raises(MqttError, match=f"cannot connect to 127.0.0.1:{port}"):
        await MqttClient.connect(f"mqtt://127.0.0.1:{port}", "c1", on_publish=lambda _: None)


async def test_unacknowledged_messages_come_back_after_reconnect(
    mqtt_broker: EmbeddedMosquitto,
) -> None:
    received: list[Publish] = []
    consumer = await MqttClient.connect(
        mqtt_broker.url,
        "client-test-redelivery",
        on_publish=received.extend,
        clean_start=True,
    )
    await consumer.subscribe(["client/test/#"])
    producer = await MqttClient.connect(
        mqtt_broker.url, "client-test-producer", on_publish=lambda _: None, clean_start=True
    )
    for n in range(1, 4):
        producer.publish("client/test/x", f"m{n}".encode(), qos=1, packet_id=n)
    async with asyncio.timeout(10):
        while len(received) < 3:
            await asyncio.sleep(0.01)
    consumer.ack([received[0].packet_id])  # only the first
    await asyncio.sleep(0.2)
    await consumer.disconnect()
    again: list[Publish] = []
    resumed = await MqttClient.connect(
        mqtt_broker.url,
        "client-test-redelivery",
        on_publish=again.extend,
        clean_start=False,
    )
    assert resumed.session_present
    async with asyncio.timeout(10):
        while len(again) < 2:
            await asyncio.sleep(0.01)
    assert [m.payload for m in again] == [b"m2", b"m3"]
    assert all(m.dup for m in again)
    resumed.ack([m.packet_id for m in again])
    await resumed.disconnect()
    await producer.disconnect()
