"""Status payloads: the retained birth `online` and the last-will `offline` of a device.

Accepted forms: the bare words ``online`` / ``offline`` (what most firmware puts in its will), or
JSON ``{"state": "online" | "offline", "ts": <ISO 8601 with offset | epoch ms>}``. Without a time
the broker's delivery time is used: a will is composed at connect time and cannot know when the
device will be lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from schemas.telemetry import Rejection, RejectReason, parse_timestamp

STATES = {"online": True, "offline": False}


@dataclass(frozen=True, slots=True)
class StatusReport:
    online: bool
    ts: datetime
    sender_timed: bool  # False: `ts` is the arrival time (the payload carried none)


def decode_status(payload: bytes, received_at: datetime) -> StatusReport | Rejection:
    text = payload.strip()
    if text in (b"online", b"offline"):
        return StatusReport(STATES[text.decode()], received_at, sender_timed=False)
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Rejection(
            RejectReason.BAD_JSON, None, "payload: expected 'online', 'offline' or a JSON object"
        )
    if not isinstance(document, dict):
        return Rejection(RejectReason.BAD_SHAPE, None, "payload: expected a JSON object")
    state = document.get("state")
    if type(state) is not str or state not in STATES:
        return Rejection(
            RejectReason.MISSING_FIELD, "state", "state: must be 'online' or 'offline'"
        )
    raw_ts = document.get("ts")
    if raw_ts is None:
        return StatusReport(STATES[state], received_at, sender_timed=False)
    ts = parse_timestamp(raw_ts)
    if isinstance(ts, Rejection):
        return ts
    return StatusReport(STATES[state], ts, sender_timed=True)
