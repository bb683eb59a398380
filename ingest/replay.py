"""Replaying dead letters: each stored payload goes through the same resolve-and-commit path
again (say, after the sensor type it names was registered). Letters that now pass in full are
marked replayed; those still refused are left as they were, with the reason they fail now, and
no second dead letter is recorded for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.resolve import Inbound, Resolver
from schemas.telemetry import RejectReason
from storage.api_dead_letters import mark_replayed
from storage.dead_letters import DeadLetter
from storage.pool import connection
from storage.status import StatusChange
from storage.writer import ReadingWriter, Row


@dataclass
class ReplayOutcome:
    replayed: list[int] = field(default_factory=list)
    failed: list[tuple[int, DeadLetter]] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0


async def replay_dead_letters(
    resolver: Resolver,
    writer: ReadingWriter,
    letters: Sequence[Mapping[str, Any]],
    now: datetime,
) -> ReplayOutcome:
    """`letters`: rows of `dead_letters` (id, topic, payload, source, received_at)."""
    outcome = ReplayOutcome()
    rows: list[Row] = []
    status_changes: list[StatusChange] = []
    for letter in letters:
        if letter["topic"] is None:
            what = "no topic was recorded, so the sensor is unknown"
            refused = DeadLetter(
                letter["source"], None, b"", RejectReason.BAD_TOPIC.value, "topic", what, now
            )
            outcome.failed.append((letter["id"], refused))
            continue
        message = Inbound(letter["topic"].encode(), bytes(letter["payload"]), 0, 0, now)
        batch = await resolver.resolve([message], now)
        rows += batch.rows  # good parts were stored the first time: duplicates then
        status_changes += batch.status_changes
        if batch.dead_letters:
            outcome.failed.append((letter["id"], batch.dead_letters[0]))
        else:
            outcome.replayed.append(letter["id"])
    result = await writer.write(rows, (), status_changes, redelivered=True)
    outcome.stored, outcome.duplicates = result.inserted, result.duplicates
    if outcome.replayed:
        async with connection(resolver.pool, "marking dead letters replayed") as conn:
            await mark_replayed(conn, outcome.replayed, now)
    return outcome
