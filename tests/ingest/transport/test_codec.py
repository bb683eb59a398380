"""The MQTT 5 codec: packets split anywhere still parse; malformed streams are refused."""

from __future__ import annotations

import pytest

from ingest.transport.codec import (
    CONNACK,
    SUBACK,
    Control,
    PacketReader,
    ProtocolError,
    Publish,
    decode_connack,
    decode_properties,
    decode_suback,
    encode_connect,
    encode_properties,
    encode_pubacks,
    encode_publish,
    encode_varint,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
    ],
)
def test_variable_byte_integers_follow_the_spec(value: int, encoded: bytes) -> None:
    assert encode_varint(value) == encoded


def test_publishes_split_at_every_byte_boundary_parse_identically() -> None:
    stream = b"".join(
        encode_publish(
            f"city/v1/water/yinhang/s{i}/telemetry", b"x" * (i * 70), qos=1, packet_id=i + 1
        )
        for i in range(5)
    ) + encode_publish("t", b"q0", qos=0)
    whole = PacketReader().feed(stream)
    reader = PacketReader()
    pieces: list[Publish | Control] = []
    for byte in stream:
        pieces += reader.feed(bytes([byte]))
    assert pieces == whole
    assert [p.packet_id for p in whole if isinstance(p, Publish)] == [1, 2, 3, 4, 5, 0]
    first = whole[4]
    assert isinstance(first, Publish)
    assert first.topic == b"city/v1/water/yinhang/s4/telemetry"
    assert len(first.payload) == 280  # remaining length over 127: two length bytes


def test_publish_with_properties_and_flags() -> None:
    props = encode_properties({0x01: 1, 0x03: "application/json"})
    body = b"\x00\x01t" + b"\x00\x07" + props + b"payload"
    packet = bytes([0x3B]) + encode_varint(len(body)) + body  # PUBLISH, DUP, QoS 1, RETAIN
    (message,) = PacketReader().feed(packet)
    assert isinstance(message, Publish)
    assert (message.topic, message.packet_id, message.payload) == (b"t", 7, b"payload")
    assert (message.qos, message.dup, message.retain) == (1, True, True)


def test_topic_alias_is_refused_since_we_never_allow_it() -> None:
    props = encode_properties({0x23: 1})
    body = b"\x00\x01t" + b"\x00\x07" + props + b"p"
    with pytest.raises(ProtocolError, match="topic alias"):
        PacketReader().feed(bytes([0x32]) + encode_varint(len(body)) + body)


def test_oversized_and_overlong_lengths_are_refused() -> None:
    with pytest.raises(ProtocolError, match="exceeds"):
        PacketReader(max_packet_size=100).feed(encode_publish("t", b"x" * 200, qos=0))
    with pytest.raises(ProtocolError, match="longer than 4 bytes"):
        PacketReader().feed(b"\x30\xff\xff\xff\xff\x01")


def test_connect_carries_session_and_flow_control_properties() -> None:
    packet = encode_connect(
        "ingest-1",
        clean_start=False,
        keepalive=30,
        session_expiry=86_400,
        receive_maximum=20_000,
        username="u",
        password="p",
    )
    (control,) = PacketReader().feed(packet)
    assert isinstance(control, Control)
    body = control.body
    assert body[:7] == b"\x00\x04MQTT\x05"
    assert body[7] == 0xC0  # username + password, no clean start
    props, end = decode_properties(body, 10)
    assert props == {0x11: 86_400, 0x21: 20_000}
    assert body[end:] == b"\x00\x08ingest-1\x00\x01u\x00\x01p"


def test_connack_suback_and_pubacks() -> None:
    connack = decode_connack(b"\x01\x00" + encode_properties({0x21: 1000}))
    assert (connack.session_present, connack.reason_code, connack.properties) == (
        True,
        0,
        {0x21: 1000},
    )
    assert decode_suback(b"\x00\x01\x00\x01\x80") == (1, [1, 0x80])
    assert encode_pubacks([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"
    assert (CONNACK, SUBACK) == (2, 9)
