"""A small asyncio MQTT 5 client for high-rate QoS 1 consumption (and the bench publisher).

Messages arrive in batches (one callback per socket read), acknowledgements leave in batches (one
write per commit). Reconnection is the caller's job: a lost connection resolves `closed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ingest.transport.codec import (
    CONNACK,
    DISCONNECT,
    DISCONNECT_PACKET,
    PINGREQ_PACKET,
    PINGRESP,
    PUBACK,
    RECEIVE_MAXIMUM,
    SUBACK,
    Control,
    PacketReader,
    ProtocolError,
    Publish,
    decode_connack,
    decode_disconnect,
    decode_suback,
    encode_connect,
    encode_pubacks,
    encode_publish,
    encode_subscribe,
)

log = logging.getLogger(__name__)

OnPublish = Callable[[list[Publish]], None]
OnPuback = Callable[[list[int]], None]
HANDSHAKE_TIMEOUT_S = 10.0


# CONNACK reason codes a deployment meets (MQTT 5, 3.2.2.2), named in errors.
REFUSALS = {
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x8A: "banned",
    0x95: "packet too large",
    0x9F: "connection rate exceeded",
}


class MqttError(Exception):
    """Connecting or subscribing failed (refused, timed out, or the broker said no)."""


def tls_context(url: str, ca_file: str | Path | None = None) -> ssl.SSLContext | None:
    """The TLS context for an mqtts:// URL (verifying the broker against `ca_file`, else the
    system's CAs), None for mqtt://."""
    if urlsplit(url).scheme != "mqtts":
        if ca_file is not None:
            raise MqttError(f"a CA file ({ca_file}) is only used with mqtts:// URLs")
        return None
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise MqttError(f"cannot load the CA file {ca_file}: {error}") from error


class _Protocol(asyncio.Protocol):
    def __init__(self, client: MqttClient) -> None:
        self._client = client

    def data_received(self, data: bytes) -> None:
        self._client._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._client._lost(exc)


class MqttClient:
    def __init__(self, on_publish: OnPublish, on_puback: OnPuback | None, keepalive: int) -> None:
        self._on_publish = on_publish
        self._on_puback = on_puback
        self._keepalive = keepalive
        self._reader = PacketReader()
        self._transport: asyncio.Transport | None = None
        self._pending: dict[int, asyncio.Future[Control]] = {}  # by packet type
        self._last_heard = time.monotonic()
        self._paused = False  # while we do not read, silence from the broker proves nothing
        self._pinger: asyncio.Task[None] | None = None
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.session_present = False
        self.server_receive_maximum = 65535

    @classmethod
    async def connect(
        cls,
        url: str,
        client_id: str,
        *,
        on_publish: OnPublish,
        on_puback: OnPuback | None = None,
        clean_start: bool = False,
        session_expiry: int = 86400,
        receive_maximum: int = 65535,
        keepalive: int = 30,
        ca_file: str | Path | None = None,
    ) -> MqttClient:
        parts = urlsplit(url)
        tls = tls_context(url, ca_file)
        port = parts.port or (8883 if tls else 1883)
        client = cls(on_publish, on_puback, keepalive)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                transport, _ = await loop.create_connection(
                    lambda: _Protocol(client), parts.hostname or "localhost", port, ssl=tls
                )
                client._transport = transport
                connack = client._expect(CONNACK)
                transport.write(
                    encode_connect(
                        client_id,
                        clean_start=clean_start,
                        keepalive=keepalive,
                        session_expiry=session_expiry,
                        receive_maximum=receive_maximum,
                        username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None,
                    )
                )
                ack = decode_connack((await connack).body)
        except (OSError, TimeoutError, ProtocolError) as error:
            client.close()
            raise MqttError(f"cannot connect to {parts.hostname}:{port}: {error!r}") from error
        if ack.reason_code >= 0x80:
            client.close()
            reason = REFUSALS.get(ack.reason_code, "refused")
            raise MqttError(
                f"broker refused the connection: {reason} (reason 0x{ack.reason_code:02x})"
            )
        client.session_present = ack.session_present
        client.server_receive_maximum = int(ack.properties.get(RECEIVE_MAXIMUM, 65535))  # type: ignore[call-overload]
        client._pinger = asyncio.create_task(client._keep_alive())
        return client

    async def subscribe(self, filters: list[str], qos: int = 1) -> None:
        suback = self._expect(SUBACK)
        self._write(encode_subscribe(1, filters, qos))
        async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
            _, codes = decode_suback((await suback).body)
        refused = [f for f, code in zip(filters, codes, strict=False) if code >= 0x80]
        if refused or len(codes) != len(filters):
            raise MqttError(f"broker refused subscriptions {refused} (codes {codes})")

    def ack(self, packet_ids: list[int]) -> None:
        if packet_ids:
            self._write(encode_pubacks(packet_ids))

    def publish(self, topic: str, payload: bytes, *, qos: int, packet_id: int = 0) -> None:
        self._write(encode_publish(topic, payload, qos=qos, packet_id=packet_id))

    def write_raw(self, data: bytes) -> None:
        self._write(data)

    def pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()
            self._paused = True

    def resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._paused = False
            self._last_heard = time.monotonic()
            self._transport.resume_reading()

    async def disconnect(self) -> None:
        """A normal DISCONNECT: the broker keeps the session (and queues for it)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(DISCONNECT_PACKET)
        self.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.closed

    def close(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        if self._transport is not None:
            self._transport.close()
        elif not self.closed.done():
            self.closed.set_result("never connected")

    @property
    def connected(self) -> bool:
        return not self.closed.done()

    def _write(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise MqttError("not connected")
        self._transport.write(data)

    def _expect(self, kind: int) -> asyncio.Future[Control]:
        future: asyncio.Future[Control] = asyncio.get_running_loop().create_future()
        self._pending[kind] = future
        return future

    def _received(self, data: bytes) -> None:
        self._last_heard = time.monotonic()
        try:
            packets = self._reader.feed(data)
        except ProtocolError as error:
            log.error("closing MQTT connection: %s", error)
            self.close()
            return
        publishes: list[Publish] = []
        for packet in packets:
            if isinstance(packet, Publish):
                publishes.append(packet)
            else:
                self._control(packet)
        if publishes:
            self._on_publish(publishes)

    def _control(self, packet: Control) -> None:
        if packet.kind == PUBACK and self._on_puback is not None:
            self._on_puback([int.from_bytes(packet.body[:2], "big")])
        elif packet.kind == DISCONNECT:
            reason, text = decode_disconnect(packet.body)
            log.warning("broker disconnected us: reason 0x%02x %s", reason, text)
        elif packet.kind != PINGRESP:
            future = self._pending.pop(packet.kind, None)
            if future is not None and not future.done():
                future.set_result(packet)

    def _lost(self, exc: Exception | None) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ProtocolError(f"connection lost: {exc!r}"))
        if not self.closed.done():
            self.closed.set_result(repr(exc) if exc else "closed")

    async def _keep_alive(self) -> None:
        # Ping at half the keep-alive; silence for 1.5 keep-alives means the link is dead.
        while True:
            await asyncio.sleep(self._keepalive / 2)
            silent = time.monotonic() - self._last_heard
            if not self._paused and silent > self._keepalive * 1.5:
                log.warning(
                    "no packet from the broker for %.0fs: reconnecting", self._keepalive * 1.5
                )
                self.close()
                return
            with contextlib.suppress(MqttError):
                self._write(PINGREQ_PACKET)
