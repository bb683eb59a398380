"""The shipped Mosquitto configuration (deploy/mosquitto/) enforces what deploy/README.md says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.transport.client import MqttClient, MqttError
from schemas.topics import status_topic, telemetry_topic
from tests.deploy.devices import Device
from tests.deploy.secured_broker import (
    INGEST_USER,
    SENSOR_A,
    SENSOR_B,
    SIMULATOR_USER,
    SecuredBroker,
    password_of,
)

TOPIC_A = telemetry_topic("water", "yinhang", SENSOR_A)
TOPIC_B = telemetry_topic("water", "yinhang", SENSOR_B)
Open = Callable[..., Device]  # (user, password=None): a device not yet connected


@pytest.fixture
def device(secured: SecuredBroker) -> Iterator[Open]:
    opened: list[Device] = []

    def open_device(user: str | None, password: str | None = None) -> Device:
        client = Device(secured.broker.port, user, password or (user and password_of(user)),
                        secured.ca_file)  # fmt: skip
        opened.append(client)
        return client

    yield open_device
    for client in opened:
        client.close()


def test_anonymous_and_wrong_passwords_are_refused(device: Open) -> None:
    assert device(None).connect() == "Not authorized"
    assert device(SENSOR_A, "not-the-password").connect() == "Not authorized"
    assert device(SENSOR_A).connect() == "Success"


async def test_our_client_names_the_refusal_and_refuses_plain_or_untrusted_links(
    secured: SecuredBroker,
) -> None:
    async def connect(url: str, ca_file: Path | None = secured.ca_file) -> None:
        client = await MqttClient.connect(url, "t", on_publish=lambda _: None, ca_file=ca_file)
        await client.disconnect()

    with pytest.raises(MqttError, match="not authorized"):
        await connect(secured.url())  # anonymous, over TLS
    with pytest.raises(MqttError, match="CERTIFICATE_VERIFY_FAILED"):
        await connect(secured.url(INGEST_USER), ca_file=None)  # the system CAs do not know ours
    with pytest.raises(MqttError, match="cannot connect"):
        await connect(secured.url(INGEST_USER).replace("mqtts://", "mqtt://"), ca_file=None)
    await connect(secured.url(INGEST_USER))


def test_a_sensor_publishes_only_under_its_own_topic(device: Open) -> None:
    ingest = device(INGEST_USER)
    assert ingest.connect() == "Success"
    ingest.subscribe("$share/cityvitals/city/v1/+/+/+/telemetry")
    sensor = device(SENSOR_A)
    assert sensor.connect() == "Success"

    assert sensor.publish(TOPIC_B, b"forged") == "Not authorized"
    assert sensor.publish(status_topic("power", "daqiao", SENSOR_B), b"offline") == (
        "Not authorized"
    )
    assert sensor.publish(TOPIC_A, b"own") == "Success"
    ingest.wait_for(b"own")  # published after the forgeries, so they would be here by now
    assert ingest.received == [(TOPIC_A, b"own")]


def test_sensors_read_nothing_and_the_ingest_publishes_nothing(device: Open) -> None:
    snoop = device(SENSOR_B)
    assert snoop.connect() == "Success"
    snoop.subscribe("city/v1/#")
    ingest = device(INGEST_USER)
    assert ingest.connect() == "Success"
    ingest.subscribe("city/v1/+/+/+/telemetry")

    assert ingest.publish(TOPIC_A, b"from the ingest") == "Not authorized"
    sensor = device(SENSOR_A)
    assert sensor.connect() == "Success"
    assert sensor.publish(TOPIC_A, b"reading") == "Success"
    ingest.wait_for(b"reading")
    assert ingest.received == [(TOPIC_A, b"reading")]
    assert snoop.received == []  # the subscription was granted, but no message may be read


def test_the_simulator_account_publishes_for_its_fleet(
    secured: SecuredBroker, device: Open
) -> None:
    from simulators.engine import SimMessage
    from simulators.publisher import FleetPublisher, PublishError

    refused = FleetPublisher(secured.url(SIMULATOR_USER, "wrong"), "sim", connections=1,
                             ca_file=secured.ca_file)  # fmt: skip
    with pytest.raises(PublishError, match="Not authorized"):
        refused.start()
    ingest = device(INGEST_USER)
    assert ingest.connect() == "Success"
    ingest.subscribe("city/v1/+/+/+/telemetry")
    # One connection: the broker makes each client's id its user name, so a second connection
    # of the account would take the first's place (test_client_ids.py).
    publisher = FleetPublisher(secured.url(SIMULATOR_USER), "sim", connections=1,
                               ca_file=secured.ca_file)  # fmt: skip
    publisher.start()
    for n, topic in enumerate((TOPIC_A, TOPIC_B)):
        publisher.publish(SimMessage(at=0.0, order=n, topic=topic, payload=topic.encode()))
    publisher.stop()
    ingest.wait_for(TOPIC_A.encode())
    ingest.wait_for(TOPIC_B.encode())
