"""Status messages: the retained birth `online` and the last-will `offline` of a device.

Accepted forms: the bare words ``online`` / ``offline`` (what most firmware puts in its will), or
JSON ``{"state": "online" | "offline", "ts": <ISO 8601 with offset | epoch ms>}``. Without a time
the broker's delivery time is used: a will is composed at connect time and cannot know when the
device will be lost.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from schemas.telemetry import Rejection, RejectReason, parse_timestamp

_STATES = {"online": True, "offline": False}


def decode_status(payload: bytes, received_at: datetime) -> tuple[bool, datetime] | Rejection:
    text = payload.strip()
    if text in (b"online", b"offline"):
        return _STATES[text.decode()], received_at
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Rejection(
            RejectReason.BAD_JSON, None, "payload: expected 'online', 'offline' or a JSON object"
        )
    if not isinstance(document, dict):
        return Rejection(RejectReason.BAD_SHAPE, None, "payload: expected a JSON object")
    state = document.get("state")
    if type(state) is not str or state not in _STATES:
        return Rejection(
            RejectReason.MISSING_FIELD, "state", "state: must be 'online' or 'offline'"
        )
    raw_ts = document.get("ts")
    if raw_ts is None:
        return _STATES[state], received_at
    ts = parse_timestamp(raw_ts)
    if isinstance(ts, Rejection):
        return ts
    return _STATES[state], ts
