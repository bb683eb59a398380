"""Dead letters: payloads that could not be stored, kept with their raw bytes and a reason."""

from __future__ import annotations

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


_COLUMNS = ("received_at", "source", "topic", "payload", "reason", "field", "detail")


async def record_dead_letters(conn: asyncpg.Connection, letters: Sequence[DeadLetter]) -> int:
    if not letters:
        return 0
    async with translate("recording dead letters"):
        await conn.copy_records_to_table(
            "dead_letters",
            records=[
                (d.received_at, d.source, d.topic, d.payload, d.reason, d.field, d.detail)
                for d in letters
            ],
            columns=_COLUMNS,
        )
    return len(letters)


async def dead_letter_counts(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason")
    return {row["reason"]: row["n"] for row in rows}
