"""Dead letters: payloads that could not be stored, kept with their raw bytes and a reason.

A letter is keyed by the message it keeps (`DeadLetter.key`: a digest of topic and payload, whose
bytes carry the reading time when there is one), so recording is idempotent:

- a redelivered message (committed, not acknowledged, sent again by the broker) stores nothing;
- the same bytes sent again as a new message (a device repeating the same bad report) are one
  letter whose `repeats` counts them, with `last_received_at`: ops fix one letter, not a
  thousand copies, and nothing is lost (counters count every message).

Why content and not the broker's identity: MQTT 5 gives a QoS 1 message no identity beyond its
packet id, which the broker reuses as soon as the message is acknowledged, so a crash between a
commit and its acknowledgement cannot be told from a new message by the packet id alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.errors import translate


@dataclass(frozen=True)
class DeadLetter:
    source: str  # "mqtt" or "http"
    topic: str | None
    payload: bytes
    reason: str  # a short code, e.g. "bad_json", "unknown_sensor", "out_of_range"
    field: str | None  # the offending field, e.g. "metrics.pressure"
    detail: str  # a sentence for the ops engineer
    received_at: datetime
    # The broker said the message may have been delivered before (MQTT DUP): if its letter is
    # stored, it is this message's, not a repeat.
    redelivered: bool = False

    @property
    def key(self) -> bytes:
        """What identifies the message: 16 bytes of SHA-256 over topic and payload."""
        digest = hashlib.sha256((self.topic or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
        digest.update(self.payload)
        return digest.digest()[:16]


_COLUMNS = "received_at, source, topic, payload, reason, field, detail, message_key, repeats"
_UNNEST = (
    "unnest($1::timestamptz[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], "
    "$7::text[], $8::bytea[], $9::integer[])"
)
# A new message with the bytes of a stored letter: one more repeat, described as it fails now.
_REPEAT = """
ON CONFLICT (message_key) WHERE message_key IS NOT NULL DO UPDATE SET
    repeats = dead_letters.repeats + EXCLUDED.repeats,
    last_received_at = GREATEST(dead_letters.last_received_at, EXCLUDED.received_at),
    reason = EXCLUDED.reason, field = EXCLUDED.field, detail = EXCLUDED.detail,
    replayed_at = NULL
"""
_REDELIVERY = "ON CONFLICT (message_key) WHERE message_key IS NOT NULL DO NOTHING"


async def record_dead_letters(conn: asyncpg.Connection, letters: Sequence[DeadLetter]) -> int:
    """Store `letters` (in the caller's transaction, if any); returns how many were given."""
    fresh = [d for d in letters if not d.redelivered]
    again = [d for d in letters if d.redelivered]
    async with translate("recording dead letters"):
        await _insert(conn, fresh, _REPEAT)
        await _insert(conn, again, _REDELIVERY)
    return len(letters)


async def _insert(conn: asyncpg.Connection, letters: Sequence[DeadLetter], conflict: str) -> None:
    if not letters:
        return
    # One row per key: ON CONFLICT cannot touch a row twice in one statement.
    merged: dict[bytes, tuple[DeadLetter, int]] = {}
    for letter in letters:
        key = letter.key
        first, repeats = merged.get(key, (letter, 0))
        merged[key] = (first, repeats + 1)
    columns: tuple[list[object], ...] = tuple([] for _ in range(9))
    for key, (d, repeats) in merged.items():
        row = (d.received_at, d.source, d.topic, d.payload, d.reason, d.field, d.detail, key)
        for column, value in zip(columns, (*row, repeats), strict=True):
            column.append(value)
    await conn.execute(
        f"INSERT INTO dead_letters ({_COLUMNS}) SELECT * FROM {_UNNEST} {conflict}", *columns
    )


async def dead_letter_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Messages set aside per reason (repeats included)."""
    rows = await conn.fetch("SELECT reason, sum(repeats) AS n FROM dead_letters GROUP BY reason")
    return {row["reason"]: int(row["n"]) for row in rows}
