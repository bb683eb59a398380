"""The demo's live terminal summary, a line every few seconds."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from alerts import store
from schemas.grades import WORST_FIRST
from storage.vital_signs import sensor_counts

SUMMARY_EVERY_S = 5.0

_DEAD_LETTERS = "SELECT coalesce(sum(repeats), 0) FROM dead_letters"


def firing_by_grade(counts: Iterable[Mapping[str, Any]]) -> str:
    """Firing alerts per grade, worst first ("红2 橙0 黄5 蓝1"), from `store.firing_counts`."""
    per_grade = Counter[str]()
    for row in counts:
        per_grade[row["grade"]] += row["alerts"]
    return " ".join(f"{grade.zh}{per_grade[grade.value]}" for grade in WORST_FIRST)


async def print_summaries(pool: asyncpg.Pool, fleet_size: int, stored: Callable[[], float]) -> None:
    """`stored()`: readings the ingest has committed so far. The readings are counted once, at
    the start; after that the ingest's own counter says how many came (a count(*) every few
    seconds would scan a table that only grows)."""
    async with pool.acquire() as conn:
        earlier = int(await conn.fetchval("SELECT count(*) FROM readings")) - stored()
    previous, previous_at = stored(), time.monotonic()
    while True:
        async with pool.acquire() as conn:
            places = await sensor_counts(conn, datetime.now(UTC))
            dead_letters = await conn.fetchval(_DEAD_LETTERS)
            firing = await store.firing_counts(conn)
        now, total = time.monotonic(), stored()
        rate = (total - previous) / (now - previous_at)
        previous, previous_at = total, now
        sensors = sum(p["sensors"] for p in places)
        online = sum(p["online"] for p in places)  # by the status topic, else by the readings
        print(
            f"{datetime.now(UTC):%H:%M:%S}  readings {earlier + total:>10.0f} ({rate:>8,.0f}/s)  "
            f"sensors online {online:>5}/{sensors:<5}  "
            f"dead letters {dead_letters:>5}  alerts firing {firing_by_grade(firing)}  "
            f"(simulated fleet {fleet_size})",
            flush=True,
        )
        await asyncio.sleep(SUMMARY_EVERY_S)
