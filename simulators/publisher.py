"""Sending simulated traffic over MQTT with paho, as devices and field gateways do.

A fleet shares a few connections (each a gateway), a sensor always on the same one so its
messages stay in order. QoS 1; retained status messages; each gateway's last will marks its
own status topic offline if the simulator dies. Publishing waits when too many messages are
unacknowledged, so memory stays bounded and the broker sets the pace.
"""

from __future__ import annotations

import threading
import zlib
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulators.engine import SimMessage


class FleetPublisher:
    def __init__(
        self, url: str, client_prefix: str, *, connections: int = 4, max_in_flight: int = 20_000
    ) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "localhost", parts.port or 1883
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
        return client

    def start(self) -> None:
        for client in self._clients:
            client.connect(self._host, self._port, keepalive=30)
            client.loop_start()
            with self._lock:
                self._in_flight += 1  # acknowledged like any other message
            client.publish(
                f"cityvitals/simulators/{client._client_id.decode()}/status",
                b"online",
                qos=1,
                retain=True,
            )

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
