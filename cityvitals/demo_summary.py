"""The demo's live terminal summary, a line every few seconds."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import asyncpg

SUMMARY_EVERY_S = 5.0

_COUNTS = """
SELECT (SELECT count(*) FROM sensors) AS sensors,
       (SELECT count(*) FROM sensors WHERE online) AS online,
       (SELECT count(*) FROM readings) AS readings,
       (SELECT count(*) FROM dead_letters) AS dead_letters,
       (SELECT coalesce(jsonb_object_agg(grade, n), '{}') FROM (
           SELECT grade, count(*) AS n FROM alerts WHERE phase = 'firing' GROUP BY grade
       ) g) AS firing
"""
GRADE_MARKS = (("red", "红"), ("orange", "橙"), ("yellow", "黄"), ("blue", "蓝"))


async def print_summaries(pool: asyncpg.Pool, fleet_size: int) -> None:
    previous, previous_at = None, time.monotonic()
    while True:
        row = await pool.fetchrow(_COUNTS)
        assert row is not None
        now = time.monotonic()
        rate = 0.0 if previous is None else (row["readings"] - previous) / (now - previous_at)
        previous, previous_at = row["readings"], now
        firing = json.loads(row["firing"])
        alerts = " ".join(f"{zh}{firing.get(grade, 0)}" for grade, zh in GRADE_MARKS)
        print(
            f"{datetime.now(UTC):%H:%M:%S}  readings {row['readings']:>10} ({rate:>8,.0f}/s)  "
            f"sensors online {row['online']:>5}/{row['sensors']:<5}  "
            f"dead letters {row['dead_letters']:>5}  alerts firing {alerts}  "
            f"(simulated fleet {fleet_size})",
            flush=True,
        )
        await asyncio.sleep(SUMMARY_EVERY_S)
