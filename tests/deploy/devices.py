"""A paho MQTT 5 client, as a sensor or a field gateway connects (PUBACK reasons kept): over
TLS when given the CA that signed the broker's certificate, else in plain text."""

from __future__ import annotations

import ssl
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

WAIT_S = 10.0  # a bound on waiting for the broker, not a timing assertion


class Device:
    def __init__(
        self,
        port: int,
        user: str | None,
        password: str | None,
        ca_file: Path | None,
        client_id: str | None = None,
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"{user or 'anonymous'}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        if ca_file is not None:
            self.client.tls_set_context(ssl.create_default_context(cafile=str(ca_file)))
        self.port = port
        self.connack: str | None = None
        self.received: list[tuple[str, bytes]] = []
        self._acks: dict[int, str] = {}
        self._changed = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def connect(self) -> str:
        """The broker's answer: 'Success', 'Not authorized', ..."""
        self.client.connect("localhost", self.port, keepalive=30)
        self.client.loop_start()
        self._wait(lambda: self.connack is not None)
        assert self.connack is not None
        return self.connack

    def publish(self, topic: str, payload: bytes) -> str:
        """Publish at QoS 1 and return the PUBACK's reason ('Success', 'Not authorized')."""
        mid = self.client.publish(topic, payload, qos=1).mid
        self._wait(lambda: mid in self._acks)
        return self._acks[mid]

    def subscribe(self, topic: str) -> None:
        self._subscribed = False
        self.client.subscribe(topic, qos=1)
        self._wait(lambda: self._subscribed)

    def wait_for(self, payload: bytes) -> None:
        self._wait(lambda: any(body == payload for _, body in self.received))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, done: Any) -> None:
        with self._changed:
            assert self._changed.wait_for(done, WAIT_S), "the broker did not answer"

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._changed:
            self.connack = str(reason)
            self._changed.notify_all()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self._changed:
            self._acks[mid] = str(reason)
            self._changed.notify_all()

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        with self._changed:
            self.received.append((message.topic, message.payload))
            self._changed.notify_all()

    def _on_subscribe(self, *_: Any) -> None:
        with self._changed:
            self._subscribed = True
            self._changed.notify_all()
