"""Sending simulated traffic over MQTT with paho, as devices and field gateways do.

A fleet shares a few connections (each a gateway), a sensor always on the same one so its
messages stay in order. QoS 1; retained status messages; each gateway's last will marks its
own status topic offline if the simulator dies. Publishing waits when too many messages are
unacknowledged, so memory stays bounded and the broker sets the pace.
"""

from __future__ import annotations

import ssl
import threading
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulators.engine import SimMessage

CONNECT_TIMEOUT_S = 10.0


class PublishError(Exception):
    """The broker refused a connection (bad credentials, not authorized) or did not answer."""


class FleetPublisher:
    """Publishes to `url`: mqtt://host:1883, or mqtts://user:password@host:8883 (TLS,
    verifying the broker against `ca_file` or the system's CAs; credentials on every gateway)."""

    def __init__(
        self,
        url: str,
        client_prefix: str,
        *,
        connections: int = 4,
        max_in_flight: int = 20_000,
        ca_file: str | Path | None = None,
    ) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "mqtts"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (8883 if self._tls else 1883)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._ca_file = str(ca_file) if ca_file else None
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._lock = threading.Condition()
        self.published = 0
        self.acknowledged = 0
        self._clients = [self._client(f"{client_prefix}-{n}") for n in range(connections)]

    def _client(self, client_id: str) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.will_set(f"cityvitals/simulators/{client_id}/status", b"offline", qos=1, retain=True)
        client.on_publish = self._acked
        if self._username is not None:
            client.username_pw_set(self._username, self._password)
        if self._tls:
            client.tls_set_context(ssl.create_default_context(cafile=self._ca_file))
        return client

    def start(self) -> None:
        """Connect every gateway; PublishError names the broker's reason if one is refused."""
        for client in self._clients:
            self._connect(client)
            with self._lock:
                self._in_flight += 1  # acknowledged like any other message
            client.publish(
                f"cityvitals/simulators/{client._client_id.decode()}/status",
                b"online",
                qos=1,
                retain=True,
            )

    def _connect(self, client: mqtt.Client) -> None:
        answer: list[str] = []
        answered = threading.Event()

        def on_connect(*args: object) -> None:
            answer.append(str(args[3]))  # (client, userdata, flags, reason_code, properties)
            answered.set()

        client.on_connect = on_connect
        client.connect(self._host, self._port, keepalive=30)
        client.loop_start()
        if not answered.wait(CONNECT_TIMEOUT_S) or answer[0] != "Success":
            client.loop_stop()
            reason = answer[0] if answer else "no answer"
            raise PublishError(f"broker {self._host}:{self._port} refused us: {reason}")

    def publish(self, message: SimMessage) -> None:
        with self._lock:
            while self._in_flight >= self._max_in_flight:
                self._lock.wait(0.5)
            self._in_flight += 1
            self.published += 1
        client = self._clients[zlib.crc32(message.topic.encode()) % len(self._clients)]
        client.publish(message.topic, message.payload, qos=1, retain=message.retain)

    def _acked(self, *_: object) -> None:
        with self._lock:
            self._in_flight -= 1
            self.acknowledged += 1
            self._lock.notify_all()

    def flush(self, timeout_s: float = 60.0) -> bool:
        """Wait until the broker acknowledged everything published; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout_s)

    def stop(self) -> None:
        self.flush()
        for client in self._clients:
            client.disconnect()
            client.loop_stop()
