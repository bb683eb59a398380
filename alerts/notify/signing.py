"""Request signing: our HMAC headers, the idempotency key, and the robots' own signatures.

Our scheme, on every request to every receiver:

    X-CityVitals-Idempotency-Key: <32 hex>   same on every retry of one notification
    X-CityVitals-Timestamp: <unix seconds>   when this attempt was signed
    X-CityVitals-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{key}.{body}")>

The body is the exact bytes sent. Signing the timestamp with the body lets a receiver reject
replays (`verify_signature` refuses timestamps more than `tolerance_s` away from its clock), and
the timestamp is fresh per attempt so a retry after a long outage still verifies. The
idempotency key is signed too: a captured request replayed within the tolerance with a new key
(to pass as a new message) fails verification. A receiver
that has already processed an idempotency key should answer 2xx again and do nothing, which makes
at-least-once delivery look like exactly-once to the duty officer. (The signature is sent when
the receiver has a secret: always for `webhook` receivers, for robots when signing is set up.)

DingTalk and Feishu sign differently from us and from each other; both were checked against
their documentation (see the functions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import quote_plus, urlsplit, urlunsplit

from alerts.model import Grade

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "feishu_sign",
    "idempotency_key",
    "sign_body",
    "signed_headers",
    "verify_signature",
]

IDEMPOTENCY_HEADER = "X-CityVitals-Idempotency-Key"
TIMESTAMP_HEADER = "X-CityVitals-Timestamp"
SIGNATURE_HEADER = "X-CityVitals-Signature"
_PREFIX = "sha256="


def idempotency_key(
    *,
    receiver: str,
    group_key: str,
    kind: str,
    episode_start: datetime,
    grade: Grade | None,
    sequence: int,
) -> str:
    """A key stable for one notification and different for every other one.

    Hash of (receiver, group key, notification kind, episode start, grade or "resolved",
    sequence). A retry reuses the stored notification, hence its key. A repeat-interval re-send
    (kind "repeat", next sequence), an escalation (kind "escalation", sequence = level), a grade
    change (other grade) and the resolved message (grade "resolved") each get a new key. The
    receiver name is in the hash as well: one group sent to two receivers is two notifications,
    and the outbox can use the key as its unique key.
    """
    parts = [
        receiver,
        group_key,
        kind,
        episode_start.isoformat(),
        "resolved" if kind == "resolved" or grade is None else grade.value,
        sequence,
    ]
    canonical = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def sign_body(secret: str, timestamp: int, key: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, f"{timestamp}.{key}." + body)."""
    if not secret:
        raise ValueError("an empty secret signs nothing: set the receiver's secret")
    message = f"{timestamp}.{key}.".encode() + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str | None, key: str, body: bytes, now: datetime) -> dict[str, str]:
    """Our three headers for one attempt (no signature when there is no secret)."""
    timestamp = int(now.timestamp())
    headers = {IDEMPOTENCY_HEADER: key, TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[SIGNATURE_HEADER] = sign_body(secret, timestamp, key, body)
    return headers


def verify_signature(
    secret: str,
    timestamp: str | int,
    key: str,
    body: bytes,
    header: str,
    now: datetime,
    tolerance_s: float = 300,
) -> bool:
    """For receivers: True when `header` signs `key` and `body` at `timestamp`, and that is
    recent.

    Timestamps further than `tolerance_s` from `now`, in either direction, are refused so a
    captured request cannot be replayed later; the key is signed, so it cannot be changed to
    pass a replay off as a new message within the tolerance. An empty secret verifies nothing
    (a receiver configured without one must not accept every request). The comparison is
    constant-time.
    """
    if not secret:
        return False
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - moment) > tolerance_s:
        return False
    expected = sign_body(secret, moment, key, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8"))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk custom robot 加签: base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")).

    DingTalk's custom-robot security settings (自定义机器人安全设置, 加签): "把 timestamp+"\\n"+
    密钥当做签名字符串，使用 HmacSHA256 算法计算签名，然后进行 Base64 encode，最后再把签名参数
    再进行 urlEncode" with the timestamp in milliseconds, within one hour of DingTalk's clock,
    and the secret (the SEC... string) as the HMAC key, as its Java and Python samples show. The
    URL encoding is done by `dingtalk_signed_url`; this returns the plain base64.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """`url` with `&timestamp=<ms>&sign=<urlencoded base64>` appended to its query."""
    sign = quote_plus(dingtalk_sign(secret, timestamp_ms))
    parts = urlsplit(url)
    extra = f"timestamp={timestamp_ms}&sign={sign}"
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu custom bot 签名校验: base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b"")).

    Note the roles are swapped compared with DingTalk: Feishu's documentation (自定义机器人
    使用指南, 签名校验) takes "timestamp + "\\n" + 密钥" as the HMAC *key* and signs an empty
    message (its Python sample: `hmac.new(key_enc, b"", digestmod=sha256)`), with the timestamp
    in seconds within one hour; `timestamp` and `sign` then go into the JSON body, not the URL.
    """
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
