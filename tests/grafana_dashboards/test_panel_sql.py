"""Every panel's SQL, expanded as Grafana expands it, runs on a database the simulators filled
and returns what its panel needs - on plain PostgreSQL and, where available, TimescaleDB.

Three ranges exercise the three sources the queries choose between: the last hour (raw
readings), the last day (1-minute rollups) and the last 30 days (1-hour rollups).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from grafana_dashboards.generate import build_dashboards
from schemas.registry import Registry
from storage.backend import Backend
from tests.grafana_dashboards.city import fill_city
from tests.grafana_dashboards.panel_sql import run_board
from tests.harness import ScratchDatabase

RANGES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "30d": timedelta(days=30)}


async def test_every_panel_query_runs_and_returns_what_its_panel_needs(
    prepared: ScratchDatabase, pool: asyncpg.Pool, registry: Registry, now: datetime
) -> None:
    city = await fill_city(pool, Backend(prepared.backend), registry, now)
    assert city.readings > 10_000
    assert city.dead_letters > 0
    timescaledb = Backend(prepared.backend) is Backend.TIMESCALEDB
    failures: list[str] = []
    returned: dict[tuple[str, str, str], bool] = {}
    async with pool.acquire() as conn:
        for name, board in build_dashboards(registry).items():
            # English boards run the same SQL with other labels: one range is enough there
            ranges = RANGES if name.startswith("zh/") else {"1d": RANGES["1d"]}
            for label, span in ranges.items():
                async for result in run_board(
                    conn, name, board, now - span, now, timescaledb=timescaledb
                ):
                    failures += [f"{name} {label} {result.panel!r}: {p}" for p in result.problems]
                    key = (name, label, result.panel)
                    returned[key] = returned.get(key, False) or bool(result.rows)
    assert not failures, "\n".join(failures[:40])
    empty = sorted(f"{name} {label} {panel!r}" for (name, label, panel), ok in returned.items()
                   if not ok)  # fmt: skip
    assert not empty, "panels without rows:\n" + "\n".join(empty[:40])
    assert len(returned) > 500
    if not timescaledb:
        async with pool.acquire() as conn:
            await _reads_the_rollup_for_its_range(conn, registry, now)


async def _reads_the_rollup_for_its_range(
    conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    """The span guards fold to constants: PostgreSQL plans only the branch for the range."""
    water = build_dashboards(registry)["zh/water.json"]
    expected = {"1h": set(), "1d": {"rollup_1m"}, "30d": {"rollup_1h"}}
    for label, span in RANGES.items():
        async for result in run_board(conn, "water", water, now - span, now, timescaledb=False):
            if result.format != "time_series":
                continue
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + result.sql))
            assert {t for t in ("rollup_1m", "rollup_1h") if t in plan} == expected[label]
            break
