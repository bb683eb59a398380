"""Why the compose file runs a fixed set of ingest workers on Mosquitto (deploy/README.md):
Mosquitto 2.0 keeps dispatching a shared subscription's share to a member that is away (with a
persistent session) and queues it there, rather than handing it to the members online."""

from __future__ import annotations

from cityvitals.embedded import EmbeddedMosquitto
from ingest.transport.client import MqttClient
from ingest.transport.codec import Publish
from tests.ingest.traffic import publish
from tests.waiting import wait_until

FILTER = "$share/workers/city/v1/+/+/+/telemetry"
MESSAGES = [(f"city/v1/water/yinhang/s{n}/telemetry", b"{}") for n in range(100)]


async def _member(url: str, client_id: str, got: list[Publish]) -> MqttClient:
    holder: list[MqttClient] = []
    unacked: list[int] = []  # a resumed session delivers before connect() returns

    def receive(messages: list[Publish]) -> None:
        got.extend(messages)
        unacked.extend(m.packet_id for m in messages)
        if holder:
            holder[0].ack(unacked[:])
            unacked.clear()

    client = await MqttClient.connect(url, client_id, on_publish=receive, session_expiry=3600)
    holder.append(client)
    client.ack(unacked[:])
    unacked.clear()
    await client.subscribe([FILTER])
    return client


async def test_mosquitto_queues_a_share_for_a_member_that_is_away(
    private_broker: EmbeddedMosquitto,
) -> None:
    online: list[Publish] = []
    away: list[Publish] = []
    first = await _member(private_broker.url, "worker-1", online)
    second = await _member(private_broker.url, "worker-2", away)
    await second.disconnect()  # a normal disconnect: the session, and its subscription, stay

    await publish(private_broker.url, MESSAGES)

    async def online_took_its_share() -> bool:
        return len(online) >= len(MESSAGES) // 2

    await wait_until(online_took_its_share, timeout_s=30)
    back = await _member(private_broker.url, "worker-2", away)  # the share was waiting for it

    async def all_delivered() -> bool:
        return len(online) + len(away) >= len(MESSAGES)

    await wait_until(all_delivered, timeout_s=30)
    assert len(online) == len(away) == len(MESSAGES) // 2
    await back.disconnect()
    await first.disconnect()
