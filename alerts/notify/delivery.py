"""Delivery: turn a group into a notification for one receiver, and send it, one attempt at a time.

The outbox owns the loop (`store.outbox` keeps the table, `engine.outbox` runs it): it stores
each `Notification` when it is created, calls `deliver` for one attempt, stores the
`DeliveryResult`, and asks `next_attempt` when to try again. Nothing here keeps state between
calls, so a restarted engine resumes from the table and resends with the same idempotency key
and the same body.

Outcomes, as Alertmanager's retrier treats webhooks plus what chat robots need:
    2xx                                   delivered (unless a robot's JSON answer refuses it)
    408, 429, 5xx, connect errors, timeouts   retry (honouring Retry-After on 429 and 503)
    other 4xx, 3xx, bad URL               permanent: retrying cannot help; recorded with reason
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx

from alerts.notify import Notification, NotificationKind
from alerts.notify.alertmanager import webhook_message
from alerts.notify.grouping import AlertGroup
from alerts.notify.receivers import Receiver, ReceiverKind
from alerts.notify.robots import (
    dingtalk_markdown,
    feishu_card,
    feishu_text,
    robot_refusal,
    wecom_markdown,
)
from alerts.notify.signing import (
    dingtalk_signed_url,
    feishu_sign,
    idempotency_key,
    signed_headers,
)
from alerts.notify.text import group_text

__all__ = [
    "DeliveryResult",
    "Outcome",
    "PreparedRequest",
    "RetryPolicy",
    "build_notification",
    "deliver",
    "next_attempt",
    "parse_retry_after",
    "prepare_request",
    "render_payload",
]

USER_AGENT = "CityVitals-Alerts/1"
_MAX_RESPONSE_BYTES = 64 * 1024  # enough for any verdict; a runaway body is not read further
_ERROR_SNIPPET = 300


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # transient: ask next_attempt() when
    PERMANENT = "permanent"  # retrying cannot help (bad URL, rejected, refused): record it


@dataclass(frozen=True)
class DeliveryResult:
    """One attempt, ready to persist next to its notification."""

    outcome: Outcome
    attempted_at: datetime
    status: int | None  # HTTP status, None when no response came back
    error: str | None  # why it failed, without the URL (robot URLs carry tokens)
    elapsed_s: float  # response time
    retry_after: datetime | None = None  # the receiver's Retry-After, when it gave one

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


@dataclass(frozen=True)
class PreparedRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def render_payload(
    group: AlertGroup,
    receiver: Receiver,
    kind: NotificationKind,
    *,
    external_url: str = "",
    unacknowledged_for_s: float | None = None,
) -> dict[str, Any]:
    """The JSON body for `receiver`'s kind, before any per-attempt signing."""
    if receiver.kind is ReceiverKind.WEBHOOK:
        return webhook_message(
            group, receiver.name, external_url=external_url, max_alerts=receiver.max_alerts
        )
    text = group_text(group, kind, unacknowledged_for_s=unacknowledged_for_s)
    if receiver.kind is ReceiverKind.WECOM:
        return wecom_markdown(text)
    if receiver.kind is ReceiverKind.DINGTALK:
        return dingtalk_markdown(text)
    return feishu_text(text) if receiver.msg_type == "text" else feishu_card(text)


def build_notification(
    group: AlertGroup,
    receiver: Receiver,
    kind: NotificationKind,
    now: datetime,
    *,
    sequence: int = 0,
    external_url: str = "",
    episode_start: datetime | None = None,
    unacknowledged_for_s: float | None = None,
) -> Notification:
    """A notification of `group` to `receiver`, with its idempotency key and rendered body.

    `sequence` tells apart notifications that would otherwise look alike: the repeat number for
    REPEAT, the level for ESCALATION. The caller decides whether to send at all (for instance
    skips RESOLVED when `receiver.send_resolved` is false).
    """
    episode = episode_start or group.episode_start or now
    grade = group.grade
    return Notification(
        receiver=receiver.name,
        group_key=group.key,
        kind=kind,
        episode_start=episode,
        grade=grade,
        sequence=sequence,
        idempotency_key=idempotency_key(
            receiver=receiver.name,
            group_key=group.key,
            kind=kind.value,
            episode_start=episode,
            grade=grade,
            sequence=sequence,
        ),
        payload=render_payload(
            group,
            receiver,
            kind,
            external_url=external_url,
            unacknowledged_for_s=unacknowledged_for_s,
        ),
        created_at=now,
        alert_count=len(group.alerts),
    )


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def prepare_request(
    notification: Notification, receiver: Receiver, now: datetime
) -> PreparedRequest:
    """URL, headers and body for one attempt at `now` (signatures are per attempt)."""
    url = receiver.url
    payload: Mapping[str, Any] = notification.payload
    if receiver.kind is ReceiverKind.DINGTALK and receiver.secret:
        url = dingtalk_signed_url(url, receiver.secret, int(now.timestamp() * 1000))
    elif receiver.kind is ReceiverKind.FEISHU and receiver.secret:
        timestamp = int(now.timestamp())
        sign = feishu_sign(receiver.secret, timestamp)
        payload = {"timestamp": str(timestamp), "sign": sign, **payload}
    body = _encode(payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",  # DingTalk insists on UTF-8
        "User-Agent": USER_AGENT,
        **signed_headers(receiver.secret, notification.idempotency_key, body, now),
    }
    return PreparedRequest(url=url, headers=headers, body=body)


async def deliver(
    notification: Notification,
    receiver: Receiver,
    client: httpx.AsyncClient,
    now: datetime,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> DeliveryResult:
    """One attempt to send `notification`; never raises for network or HTTP trouble."""
    request = prepare_request(notification, receiver, now)
    started = clock()

    def result(
        outcome: Outcome,
        status: int | None,
        error: str | None,
        retry_after: datetime | None = None,
    ) -> DeliveryResult:
        if error is not None:  # a robot URL is a credential: never let it reach a log or table
            error = error.replace(request.url, receiver.name).replace(receiver.url, receiver.name)
        return DeliveryResult(outcome, now, status, error, clock() - started, retry_after)

    try:
        async with client.stream(
            "POST",
            request.url,
            content=request.body,
            headers=request.headers,
            timeout=receiver.timeout_s,
        ) as response:
            body = await _read_capped(response)
    except httpx.TimeoutException as error:
        return result(Outcome.RETRY, None, f"timeout after {receiver.timeout_s:g}s: {_why(error)}")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        return result(Outcome.PERMANENT, None, f"bad receiver URL: {_why(error)}")
    except httpx.TransportError as error:  # refused, reset, DNS, broken HTTP: transient
        return result(Outcome.RETRY, None, _why(error))
    outcome, error_text = _classify(receiver.kind, response.status_code, body)
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    return result(outcome, response.status_code, error_text, retry_after)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:_MAX_RESPONSE_BYTES]


def _why(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _classify(kind: ReceiverKind, status: int, body: bytes) -> tuple[Outcome, str | None]:
    robot = kind is not ReceiverKind.WEBHOOK
    refusal = robot_refusal(kind.value, body) if robot else None
    if 200 <= status < 300:
        if refusal is None:
            return Outcome.DELIVERED, None
        retryable, reason = refusal
        return (Outcome.RETRY if retryable else Outcome.PERMANENT), reason
    snippet = body[:_ERROR_SNIPPET].decode("utf-8", errors="replace").strip()
    reason = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if status in (408, 429) or status >= 500:
        return Outcome.RETRY, reason
    if refusal is not None and refusal[0]:  # a robot's rate limit sent with a 4xx status
        return Outcome.RETRY, refusal[1]
    if 300 <= status < 400:
        return Outcome.PERMANENT, f"{reason} (redirect: update the receiver's URL)"
    return Outcome.PERMANENT, f"{reason} (client error: retrying cannot help)"


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """A Retry-After header (delay in seconds, or an HTTP date) as a moment; None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():  # delay-seconds is 1*DIGIT (RFC 9110); no signs, no fractions
            return now + timedelta(seconds=int(value))
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if moment.tzinfo is None:  # HTTP dates are GMT by definition
        moment = moment.replace(tzinfo=now.tzinfo)
    return max(moment, now)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, a cap per wait, and a maximum age overall.

    The n-th retry waits uniform(0, min(cap_s, base_s * factor**(n-1))) seconds (AWS "full
    jitter": many engines retrying after one outage spread out instead of arriving together).
    After `max_age_s` from the first attempt the notification is given up and the outbox marks it
    failed: a day-old alert message no longer helps anyone, and the ops wall still shows it.
    """

    base_s: float = 2.0
    factor: float = 2.0
    cap_s: float = 300.0
    max_age_s: float = 24 * 3600.0


def next_attempt(
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    policy: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
    *,
    rng: random.Random | None = None,
    retry_after: datetime | None = None,
) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None to give up.

    Never later than the maximum age; None once it has passed, or when the receiver's
    `retry_after` lies beyond it. `rng` makes the jitter reproducible in tests.
    """
    if attempts < 1:
        raise ValueError(f"attempts counts attempts made so far, at least 1; got {attempts}")
    deadline = first_attempt_at + timedelta(seconds=policy.max_age_s)
    if now >= deadline:
        return None
    exponent = min(attempts - 1, 64)  # beyond this the cap rules anyway; avoids float overflow
    ceiling = min(policy.cap_s, policy.base_s * policy.factor**exponent)
    delay = (rng or random.Random()).uniform(0.0, ceiling)
    at = now + timedelta(seconds=delay)
    if retry_after is not None and retry_after > at:
        if retry_after > deadline:
            return None
        at = retry_after
    return min(at, deadline)
