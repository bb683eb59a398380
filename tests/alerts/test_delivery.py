"""Delivery against a real HTTP server on 127.0.0.1, and the pure retry policy.

The receiver is a small asyncio HTTP/1.1 server started per test on a free port. It verifies our
signature (and DingTalk's or Feishu's, for robots) with the real clock and answers 401 when it
does not hold, so "delivered" in these tests also means "signed correctly".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from alerts.model import Alert, Grade, Phase, Subject
from alerts.notify import Notification, NotificationKind, notify_alert
from alerts.notify.delivery import (
    DeliveryResult,
    Outcome,
    RetryPolicy,
    build_notification,
    deliver,
    next_attempt,
    parse_retry_after,
)
from alerts.notify.grouping import group_alerts
from alerts.notify.receivers import Receiver, ReceiverKind
from alerts.notify.signing import (
    IDEMPOTENCY_HEADER,
)
from tests.alerts.local_receiver import (
    SECRET,
    LocalReceiver,
    Seen,
    running_receiver,
)


@pytest.fixture
async def receiver() -> AsyncIterator[LocalReceiver]:
    async with running_receiver() as local:
        yield local


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:  # no proxy from the environment
        yield http


def notification_for(target: Receiver, now: datetime) -> Notification:
    alert = Alert(
        rule_id="water_pressure_low",
        subject=Subject("sensor", "WP-0042", "water", "yinhang"),
        phase=Phase.FIRING,
        grade=Grade.RED,
        value=0.12,
        firing_since=now - timedelta(minutes=3),
    )
    shown = notify_alert(alert, what_zh="供水管网压力", what_en="Water pressure", unit="MPa")
    return build_notification(group_alerts([shown])[0], target, NotificationKind.FIRING, now)


async def send(
    local: LocalReceiver, http: httpx.AsyncClient, *, timeout_s: float = 5.0
) -> tuple[DeliveryResult, Notification]:
    target = Receiver("duty", ReceiverKind.WEBHOOK, local.url(), SECRET, timeout_s=timeout_s)
    now = datetime.now(UTC)
    notification = notification_for(target, now)
    return await deliver(notification, target, http, now), notification


async def test_200_is_delivered_signed_and_keyed(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    result, notification = await send(receiver, client)
    assert result.outcome is Outcome.DELIVERED
    assert result.delivered
    assert result.status == 200
    assert result.error is None
    assert result.elapsed_s > 0
    [seen] = receiver.seen
    assert seen.headers[IDEMPOTENCY_HEADER.lower()] == notification.idempotency_key
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(seen.body) == notification.payload
    assert json.loads(seen.body)["version"] == "4"


async def test_500_is_retried_and_the_retry_keeps_key_and_body(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    receiver.replies.append((500, {}, b"database down"))
    target = Receiver("duty", ReceiverKind.WEBHOOK, receiver.url(), SECRET)
    now = datetime.now(UTC)
    notification = notification_for(target, now)
    first = await deliver(notification, target, client, now)
    assert first.outcome is Outcome.RETRY
    assert first.status == 500
    assert first.error == "HTTP 500: database down"
    second = await deliver(notification, target, client, now + timedelta(seconds=1))
    assert second.outcome is Outcome.DELIVERED
    one, two = receiver.seen
    key = IDEMPOTENCY_HEADER.lower()
    assert one.headers[key] == two.headers[key] == notification.idempotency_key
    assert one.body == two.body


async def test_400_is_permanent(receiver: LocalReceiver, client: httpx.AsyncClient) -> None:
    receiver.replies.append((400, {}, b'{"error": "unknown field"}'))
    result, _ = await send(receiver, client)
    assert result.outcome is Outcome.PERMANENT
    assert result.status == 400
    assert result.error is not None
    assert "unknown field" in result.error


@pytest.mark.parametrize("status", [408, 429, 502, 503])
async def test_retryable_statuses(
    receiver: LocalReceiver, client: httpx.AsyncClient, status: int
) -> None:
    receiver.replies.append((status, {}, b""))
    result, _ = await send(receiver, client)
    assert result.outcome is Outcome.RETRY
    assert result.status == status


async def test_429_retry_after_is_respected(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    receiver.replies.append((429, {"Retry-After": "120"}, b"slow down"))
    result, _ = await send(receiver, client)
    assert result.outcome is Outcome.RETRY
    assert result.retry_after == result.attempted_at + timedelta(seconds=120)
    at = next_attempt(1, result.attempted_at, result.attempted_at, retry_after=result.retry_after)
    assert at == result.retry_after  # later than any 2 s backoff


async def test_a_wrong_signature_is_refused_by_the_receiver(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    target = Receiver("duty", ReceiverKind.WEBHOOK, receiver.url(), "not-the-secret")
    now = datetime.now(UTC)
    result = await deliver(notification_for(target, now), target, client, now)
    assert result.outcome is Outcome.PERMANENT
    assert result.status == 401


async def test_connection_refused_is_retried(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/robot/send?access_token=TOKEN123"
    target = Receiver("ding", ReceiverKind.DINGTALK, url, "SECx")
    now = datetime.now(UTC)
    result = await deliver(notification_for(target, now), target, client, now)
    assert result.outcome is Outcome.RETRY
    assert result.status is None
    assert result.error is not None
    assert "ConnectError" in result.error
    assert "TOKEN123" not in result.error


async def test_timeout_is_retried(receiver: LocalReceiver, client: httpx.AsyncClient) -> None:
    receiver.delay = 1.0
    result, _ = await send(receiver, client, timeout_s=0.2)
    assert result.outcome is Outcome.RETRY
    assert result.status is None
    assert result.error is not None
    assert result.error.startswith("timeout after 0.2s")


async def test_redirect_and_bad_url_are_permanent(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    receiver.replies.append((301, {"Location": "http://elsewhere/"}, b""))
    result, _ = await send(receiver, client)
    assert result.outcome is Outcome.PERMANENT
    target = Receiver("duty", ReceiverKind.WEBHOOK, "ftp://127.0.0.1/x", SECRET)
    now = datetime.now(UTC)
    result = await deliver(notification_for(target, now), target, client, now)
    assert result.outcome is Outcome.PERMANENT
    assert result.error is not None
    assert "bad receiver URL" in result.error


def dingtalk_signature_holds(secret: str) -> Callable[[Seen], bool]:
    def check(seen: Seen) -> bool:
        query = parse_qs(urlsplit(seen.target).query)
        ts = query["timestamp"][0]
        digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        fresh = abs(int(ts) / 1000 - datetime.now(UTC).timestamp()) < 3600
        return fresh and query["sign"] == [base64.b64encode(digest).decode()]

    return check


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (b'{"errcode": 0, "errmsg": "ok"}', Outcome.DELIVERED),
        (b'{"errcode": 310000, "errmsg": "sign not match"}', Outcome.PERMANENT),
        (b'{"errcode": 130101, "errmsg": "send too fast"}', Outcome.RETRY),
    ],
)
async def test_dingtalk_robot_signed_url_and_json_verdicts(
    receiver: LocalReceiver, client: httpx.AsyncClient, answer: bytes, outcome: Outcome
) -> None:
    receiver.check = dingtalk_signature_holds("SECding")
    receiver.replies.append((200, {"Content-Type": "application/json"}, answer))
    target = Receiver(
        "ding", ReceiverKind.DINGTALK, receiver.url("/send?access_token=t"), "SECding"
    )
    now = datetime.now(UTC)
    result = await deliver(notification_for(target, now), target, client, now)
    assert result.outcome is outcome
    body = json.loads(receiver.seen[0].body)
    assert body["msgtype"] == "markdown"
    assert "红色预警" in body["markdown"]["title"]


async def test_feishu_bot_signature_in_the_body(
    receiver: LocalReceiver, client: httpx.AsyncClient
) -> None:
    def check(seen: Seen) -> bool:
        body = json.loads(seen.body)
        key = f"{body['timestamp']}\nfs-secret".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        return bool(body["sign"] == expected)

    receiver.check = check
    receiver.replies.append((200, {}, b'{"code": 0, "msg": "success", "data": {}}'))
    receiver.replies.append((200, {}, b'{"code": 19021, "msg": "sign match fail"}'))
    target = Receiver(
        "fs", ReceiverKind.FEISHU, receiver.url("/open-apis/bot/v2/hook/h"), "fs-secret"
    )
    now = datetime.now(UTC)
    notification = notification_for(target, now)
    assert (await deliver(notification, target, client, now)).outcome is Outcome.DELIVERED
    refused = await deliver(notification, target, client, now)
    assert refused.outcome is Outcome.PERMANENT
    assert refused.error == "feishu refused the message: code 19021: sign match fail"


# --- the retry policy ------------------------------------------------------------------------


class Highest(random.Random):
    """Jitter that always picks the top of the range, to see the backoff ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


T0 = datetime(2026, 11, 25, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=2, factor=2, cap_s=60, max_age_s=3600)
    delays = [(next_attempt(n, T0, T0, policy, rng=Highest()) or T0) - T0 for n in range(1, 9)]
    assert [d.total_seconds() for d in delays] == [2, 4, 8, 16, 32, 60, 60, 60]
    huge = next_attempt(10_000, T0, T0, policy, rng=Highest())
    assert huge == T0 + timedelta(seconds=60)


def test_full_jitter_stays_within_bounds_and_is_reproducible() -> None:
    policy = RetryPolicy(base_s=2, factor=2, cap_s=60, max_age_s=3600)
    samples = [
        ((next_attempt(4, T0, T0, policy, rng=rng) or T0) - T0).total_seconds()
        for rng in [random.Random(42)]
        for _ in range(500)
    ]
    assert all(0 <= s <= 16 for s in samples)
    assert len(set(samples)) > 400  # spread out, not one value
    again = [next_attempt(4, T0, T0, policy, rng=random.Random(s)) for s in range(5)]
    assert again == [next_attempt(4, T0, T0, policy, rng=random.Random(s)) for s in range(5)]


def test_max_age_gives_up() -> None:
    policy = RetryPolicy(base_s=2, factor=2, cap_s=300, max_age_s=600)
    assert next_attempt(3, T0, T0 + timedelta(seconds=600), policy) is None
    near_end = T0 + timedelta(seconds=599)
    assert next_attempt(9, T0, near_end, policy, rng=Highest()) == T0 + timedelta(seconds=600)
    beyond = T0 + timedelta(seconds=900)
    assert next_attempt(1, T0, T0, policy, retry_after=beyond) is None
    with pytest.raises(ValueError, match="at least 1"):
        next_attempt(0, T0, T0, policy)


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", T0) == T0 + timedelta(seconds=30)
    date = "Wed, 25 Nov 2026 00:02:00 GMT"
    assert parse_retry_after(date, T0) == T0 + timedelta(minutes=2)
    assert parse_retry_after("Tue, 24 Nov 2026 00:00:00 GMT", T0) == T0  # past: now
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("-5", T0) is None
    assert parse_retry_after(None, T0) is None
