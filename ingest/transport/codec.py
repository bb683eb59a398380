"""MQTT 5 packets, encoded and decoded: just what a QoS 1 consumer (and the bench publisher) needs.

Why not paho here: paho reads each packet with several 1-byte socket reads, builds an object per
message, and a PUBACK sent from outside its network thread costs a socket-pair wake-up. The ingest
acknowledges thousands of messages per commit, so it parses whole socket reads at once and writes
every PUBACK of a batch in one call. Simulators and tests use paho, like real devices.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14

# Property identifiers used here (MQTT 5, section 2.2.2.2).
SESSION_EXPIRY_INTERVAL = 0x11
RECEIVE_MAXIMUM = 0x21
MAXIMUM_PACKET_SIZE = 0x27
TOPIC_ALIAS_MAXIMUM = 0x22
SERVER_KEEP_ALIVE = 0x13
REASON_STRING = 0x1F
ASSIGNED_CLIENT_ID = 0x12
TOPIC_ALIAS = 0x23

_FOUR_BYTE = {0x02, 0x11, 0x18, 0x27}
_TWO_BYTE = {0x13, 0x21, 0x22, 0x23}
_ONE_BYTE = {0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A}
_STRING = {0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F}
_BINARY = {0x09, 0x16}

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"


class ProtocolError(Exception):
    """The peer sent bytes that are not valid MQTT 5 (or that we never asked for)."""


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def _binary(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def encode_properties(props: dict[int, int | str | bytes]) -> bytes:
    body = bytearray()
    for key, value in props.items():
        body.append(key)
        if key in _FOUR_BYTE:
            body += struct.pack("!I", value)
        elif key in _TWO_BYTE:
            body += struct.pack("!H", value)
        elif key in _ONE_BYTE:
            body.append(int(value))
        elif key in _STRING:
            body += _string(str(value))
        elif key in _BINARY:
            body += _binary(bytes(value))  # type: ignore[arg-type]
        else:
            raise ValueError(f"property 0x{key:02x} is not supported by this encoder")
    return encode_varint(len(body)) + bytes(body)


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + encode_varint(len(body)) + body


def encode_connect(
    client_id: str,
    *,
    clean_start: bool,
    keepalive: int,
    session_expiry: int,
    receive_maximum: int,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    flags = 0x02 if clean_start else 0
    payload = _string(client_id)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
    if password is not None:
        flags |= 0x40
        payload += _binary(password.encode("utf-8"))
    props = encode_properties(
        {SESSION_EXPIRY_INTERVAL: session_expiry, RECEIVE_MAXIMUM: receive_maximum}
    )
    header = _string("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive) + props
    return _packet(CONNECT << 4, header + payload)


def encode_subscribe(packet_id: int, filters: list[str], qos: int = 1) -> bytes:
    body = struct.pack("!H", packet_id) + encode_properties({})
    for topic_filter in filters:
        body += _string(topic_filter) + bytes([qos])
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def encode_publish(
    topic: str, payload: bytes, *, qos: int, packet_id: int = 0, retain: bool = False
) -> bytes:
    body = _string(topic)
    if qos:
        body += struct.pack("!H", packet_id)
    body += b"\x00" + payload  # no properties
    return _packet((PUBLISH << 4) | (qos << 1) | int(retain), body)


def encode_pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs with reason 'success' in their 4-byte short form, concatenated for one write."""
    return b"".join(b"\x40\x02" + i.to_bytes(2, "big") for i in packet_ids)


def decode_properties(
    data: bytes | bytearray | memoryview, pos: int
) -> tuple[dict[int, object], int]:
    length, pos = _read_varint(data, pos)
    end = pos + length
    props: dict[int, object] = {}
    while pos < end:
        key = data[pos]
        pos += 1
        if key in _FOUR_BYTE:
            props[key] = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
        elif key in _TWO_BYTE:
            props[key] = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif key in _ONE_BYTE:
            props[key] = data[pos]
            pos += 1
        elif key in _STRING or key in _BINARY:
            size = int.from_bytes(data[pos : pos + 2], "big")
            raw = bytes(data[pos + 2 : pos + 2 + size])
            props[key] = raw.decode("utf-8", "replace") if key in _STRING else raw
            pos += 2 + size
        elif key == 0x26:  # user property: a string pair, kept out of the way
            for _ in range(2):
                pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
        elif key == 0x0B:  # subscription identifier
            _, pos = _read_varint(data, pos)
        else:
            raise ProtocolError(f"unknown property 0x{key:02x}")
    if pos != end:
        raise ProtocolError("properties overrun their length")
    return props, end


def _read_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ProtocolError("variable byte integer longer than 4 bytes")


@dataclass(frozen=True, slots=True)
class Publish:
    topic: bytes
    payload: bytes
    packet_id: int  # 0 for QoS 0
    qos: int
    dup: bool
    retain: bool


@dataclass(frozen=True, slots=True)
class Control:
    """Any packet other than PUBLISH: type, flags and the body after the fixed header."""

    kind: int
    flags: int
    body: bytes


@dataclass
class PacketReader:
    """Incremental parser: feed socket reads, get whole packets back."""

    max_packet_size: int = 1 << 20
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Publish | Control]:
        buffer = self._buffer
        buffer += data
        packets: list[Publish | Control] = []
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            first = buffer[pos]
            # Remaining length: a variable byte integer of up to four bytes.
            length, shift, cursor, complete = 0, 0, pos + 1, False
            while cursor < size:
                byte = buffer[cursor]
                cursor += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("remaining length longer than 4 bytes")
            if not complete:
                break
            if length > self.max_packet_size:
                raise ProtocolError(f"packet of {length} bytes exceeds {self.max_packet_size}")
            end = cursor + length
            if end > size:
                break
            kind = first >> 4
            if kind == PUBLISH:
                packets.append(_decode_publish(first, buffer, cursor, end))
            else:
                packets.append(Control(kind, first & 0x0F, bytes(buffer[cursor:end])))
            pos = end
        if pos:
            del buffer[:pos]
        return packets


def _decode_publish(first: int, buffer: bytearray, pos: int, end: int) -> Publish:
    qos = (first >> 1) & 0x03
    topic_length = (buffer[pos] << 8) | buffer[pos + 1]
    pos += 2
    topic = bytes(buffer[pos : pos + topic_length])
    pos += topic_length
    packet_id = 0
    if qos:
        packet_id = (buffer[pos] << 8) | buffer[pos + 1]
        pos += 2
    if buffer[pos] == 0:
        pos += 1
    else:
        props, pos = decode_properties(buffer, pos)
        if TOPIC_ALIAS in props:
            raise ProtocolError("topic alias received although topic alias maximum is 0")
    return Publish(
        topic, bytes(buffer[pos:end]), packet_id, qos, bool(first & 0x08), bool(first & 1)
    )


@dataclass(frozen=True)
class ConnAck:
    session_present: bool
    reason_code: int
    properties: dict[int, object]


def decode_connack(body: bytes) -> ConnAck:
    if len(body) < 2:
        raise ProtocolError("CONNACK too short")
    props, _ = decode_properties(body, 2) if len(body) > 2 else ({}, 2)
    return ConnAck(bool(body[0] & 1), body[1], props)


def decode_suback(body: bytes) -> tuple[int, list[int]]:
    packet_id = int.from_bytes(body[:2], "big")
    _, pos = decode_properties(body, 2)
    return packet_id, list(body[pos:])


def decode_disconnect(body: bytes) -> tuple[int, str]:
    if not body:
        return 0, ""
    reason = body[0]
    text = ""
    if len(body) > 1:
        props, _ = decode_properties(body, 1)
        text = str(props.get(REASON_STRING, ""))
    return reason, text
