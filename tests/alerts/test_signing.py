"""Signatures (ours, DingTalk's, Feishu's) and idempotency keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.model import Grade
from alerts.notify import NotificationKind
from alerts.notify.delivery import build_notification, prepare_request
from alerts.notify.receivers import Receiver, ReceiverKind
from alerts.notify.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    dingtalk_sign,
    dingtalk_signed_url,
    feishu_sign,
    sign_body,
    signed_headers,
    verify_signature,
)
from tests.alerts.notifying import T0, WEBHOOK, one_group, pressure

# --- DingTalk and Feishu signatures ----------------------------------------------------------


def test_dingtalk_signature_matches_an_independent_computation() -> None:
    secret = "SEC0123456789abcdef"
    # Find a timestamp whose signature has '+' or '/', so URL encoding is really exercised.
    ts = next(
        t
        for t in range(1_764_000_000_000, 1_764_000_001_000)
        if set("+/") & set(dingtalk_sign(secret, t))
    )
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert dingtalk_sign(secret, ts) == expected
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t0k", secret, ts)
    query = urlsplit(url).query
    assert "+" not in query.split("sign=")[1]
    assert "/" not in query.split("sign=")[1]
    params = parse_qs(query)
    assert params == {"access_token": ["t0k"], "timestamp": [str(ts)], "sign": [expected]}


def test_feishu_signature_matches_an_independent_computation() -> None:
    secret, ts = "feishu-secret", 1_599_360_473
    key = f"{ts}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign(secret, ts) == expected
    # The roles of key and message differ from DingTalk's; make sure they were not mixed up.
    swapped = hmac.new(secret.encode(), key, hashlib.sha256).digest()
    assert feishu_sign(secret, ts) != base64.b64encode(swapped).decode()


def test_robot_requests_carry_the_robot_signatures() -> None:
    now = datetime.fromtimestamp(1_764_000_000, UTC)
    group = one_group(pressure())
    ding = Receiver("d", ReceiverKind.DINGTALK, "https://r/send?access_token=t", secret="SECx")
    request = prepare_request(
        build_notification(group, ding, NotificationKind.FIRING, now), ding, now
    )
    params = parse_qs(urlsplit(request.url).query)
    assert params["timestamp"] == ["1764000000000"]
    assert params["sign"] == [dingtalk_sign("SECx", 1_764_000_000_000)]
    feishu = Receiver("f", ReceiverKind.FEISHU, "https://open/hook/abc", secret="fs")
    notification = build_notification(group, feishu, NotificationKind.FIRING, now)
    body = json.loads(prepare_request(notification, feishu, now).body)
    assert body["timestamp"] == "1764000000"
    assert body["sign"] == feishu_sign("fs", 1_764_000_000)
    assert body["msg_type"] == "interactive"
    assert "sign" not in notification.payload  # signed per attempt, not stored


# --- our signature and idempotency key -------------------------------------------------------


def test_our_signature_verifies_and_rejects_tampering_and_old_timestamps() -> None:
    secret, key, body, ts = "s3cret", "0f" * 16, b'{"a":1}', 1_764_000_000
    header = sign_body(secret, ts, key, body)
    signed = f"{ts}.{key}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    now = datetime.fromtimestamp(ts + 10, UTC)
    assert verify_signature(secret, str(ts), key, body, header, now)
    assert not verify_signature(secret, str(ts), key, b'{"a":2}', header, now)  # tampered body
    assert not verify_signature("other", str(ts), key, body, header, now)  # wrong secret
    assert not verify_signature(secret, str(ts + 1), key, body, header, now)  # timestamp changed
    late = datetime.fromtimestamp(ts + 301, UTC)
    assert not verify_signature(secret, str(ts), key, body, header, late)  # too old: replay
    early = datetime.fromtimestamp(ts - 301, UTC)
    assert not verify_signature(secret, str(ts), key, body, header, early)  # from the future
    assert not verify_signature(secret, "yesterday", key, body, header, now)
    assert set(signed_headers(None, "k", body, now)) == {IDEMPOTENCY_HEADER, TIMESTAMP_HEADER}


def test_a_replay_with_a_new_idempotency_key_fails_verification() -> None:
    # A captured request sent again within the tolerance, its key changed so that a receiver
    # that honours keys would take it for a new message.
    secret, body, now = "s3cret", b'{"status":"firing"}', datetime.fromtimestamp(1_764_000_000, UTC)
    captured = signed_headers(secret, "aa" * 16, body, now)
    timestamp, header = captured[TIMESTAMP_HEADER], captured[SIGNATURE_HEADER]
    assert verify_signature(secret, timestamp, "aa" * 16, body, header, now)
    assert not verify_signature(secret, timestamp, "bb" * 16, body, header, now)


def test_an_empty_secret_signs_and_verifies_nothing() -> None:
    now = datetime.fromtimestamp(1_764_000_000, UTC)
    with pytest.raises(ValueError, match="empty secret"):
        sign_body("", 1_764_000_000, "k", b"{}")
    forged = "sha256=" + hmac.new(b"", b"1764000000.k.{}", hashlib.sha256).hexdigest()
    assert not verify_signature("", "1764000000", "k", b"{}", forged, now)


def test_idempotency_key_is_stable_across_retries_and_new_for_every_other_notification() -> None:
    group = one_group(pressure(grade=Grade.ORANGE))
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)
    first = build_notification(group, WEBHOOK, NotificationKind.FIRING, t1)
    again = build_notification(group, WEBHOOK, NotificationKind.FIRING, t2)
    assert first.idempotency_key == again.idempotency_key
    attempt1, attempt2 = prepare_request(first, WEBHOOK, t1), prepare_request(first, WEBHOOK, t2)
    assert attempt1.headers[IDEMPOTENCY_HEADER] == attempt2.headers[IDEMPOTENCY_HEADER]
    assert attempt1.body == attempt2.body
    assert attempt1.headers[TIMESTAMP_HEADER] != attempt2.headers[TIMESTAMP_HEADER]
    assert attempt1.headers[SIGNATURE_HEADER] != attempt2.headers[SIGNATURE_HEADER]
    keys = {
        first.idempotency_key,
        build_notification(group, WEBHOOK, NotificationKind.REPEAT, t2, sequence=1).idempotency_key,
        build_notification(group, WEBHOOK, NotificationKind.REPEAT, t2, sequence=2).idempotency_key,
        build_notification(
            group, WEBHOOK, NotificationKind.ESCALATION, t2, sequence=1
        ).idempotency_key,
        build_notification(
            one_group(pressure(grade=Grade.RED)), WEBHOOK, NotificationKind.FIRING, t2
        ).idempotency_key,
        build_notification(
            one_group(pressure(resolved_at=t2)), WEBHOOK, NotificationKind.RESOLVED, t2
        ).idempotency_key,
        build_notification(
            group,
            Receiver("other", ReceiverKind.WEBHOOK, "http://y", "s"),
            NotificationKind.FIRING,
            t1,
        ).idempotency_key,
    }
    assert len(keys) == 7
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
