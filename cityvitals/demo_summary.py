"""The demo's live terminal summary, a line every few seconds."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from alerts import store
from schemas.grades import WORST_FIRST

SUMMARY_EVERY_S = 5.0

_COUNTS = """
SELECT (SELECT count(*) FROM sensors) AS sensors,
       (SELECT count(*) FROM sensors WHERE online) AS online,
       (SELECT count(*) FROM readings) AS readings,
       (SELECT count(*) FROM dead_letters) AS dead_letters
"""


def firing_by_grade(counts: Iterable[Mapping[str, Any]]) -> str:
    """Firing alerts per grade, worst first ("红2 橙0 黄5 蓝1"), from `store.firing_counts`."""
    per_grade = Counter[str]()
    for row in counts:
        per_grade[row["grade"]] += row["alerts"]
    return " ".join(f"{grade.zh}{per_grade[grade.value]}" for grade in WORST_FIRST)


async def print_summaries(pool: asyncpg.Pool, fleet_size: int) -> None:
    previous, previous_at = None, time.monotonic()
    while True:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(_COUNTS)
            firing = await store.firing_counts(conn)
        assert row is not None
        now = time.monotonic()
        rate = 0.0 if previous is None else (row["readings"] - previous) / (now - previous_at)
        previous, previous_at = row["readings"], now
        print(
            f"{datetime.now(UTC):%H:%M:%S}  readings {row['readings']:>10} ({rate:>8,.0f}/s)  "
            f"sensors online {row['online']:>5}/{row['sensors']:<5}  "
            f"dead letters {row['dead_letters']:>5}  alerts firing {firing_by_grade(firing)}  "
            f"(simulated fleet {fleet_size})",
            flush=True,
        )
        await asyncio.sleep(SUMMARY_EVERY_S)
