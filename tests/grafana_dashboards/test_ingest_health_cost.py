"""The ingest-health queries cost a bounded number of rows, however much the city has stored:
run with EXPLAIN ANALYZE on 30 days of the demo's ingest (its fleet's readings per minute and
domain, and raw readings' partitions or chunks for every day), no plan node touches `readings`
and the rows read stay within domains x minutes of the range (the lag: one row per domain)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from grafana_dashboards.i18n import Lang
from grafana_dashboards.ingest_health import ingest_health_queries
from schemas.geography import Geography
from schemas.registry import Registry
from simulators.fleet import build_fleet
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.dead_letters import DeadLetter, record_dead_letters
from storage.writer import ReadingWriter
from tests.grafana_dashboards.grafana_sql import calculate_interval, expand
from tests.harness import ScratchDatabase

DAYS = 30
DEMO_SENSORS = 2_000  # cityvitals.demo's default city
DEAD_LETTERS = 300
DAY = timedelta(days=1)
RANGES = {"6h": timedelta(hours=6), "30d": timedelta(days=DAYS)}


def demo_readings_per_minute(registry: Registry, geography: Geography) -> dict[str, int]:
    """Readings a minute per domain of the demo's fleet (every metric at its type's interval)."""
    per_domain: dict[str, float] = {}
    for sensor in build_fleet(registry, geography, size=DEMO_SENSORS, seed=1):
        kind = sensor.sensor_type
        rate = len(kind.metrics) * 60.0 / kind.reporting_interval
        per_domain[kind.domain] = per_domain.get(kind.domain, 0.0) + rate
    return {domain: round(rate) for domain, rate in per_domain.items()}


async def _thirty_days(
    pool: asyncpg.Pool, backend: Backend, per_minute: dict[str, int], now: datetime
) -> None:
    start = now - timedelta(days=DAYS)
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    sensor = catalog.sensors["yp-wp-0001"].id
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    # A few raw readings a day: every day has its partition (chunk), as in a running city.
    raw = [
        (start + timedelta(days=d, hours=h), sensor, metric, 0.3)
        for d in range(DAYS)
        for h in (1, 13)
    ]
    await ReadingWriter(pool, backend).write(raw)
    letters = [
        DeadLetter(
            "mqtt",
            f"t/{i}",
            b"{",
            "bad_json",
            None,
            "not JSON",
            start + DAYS * DAY * i / DEAD_LETTERS,
        )
        for i in range(DEAD_LETTERS)
    ]
    async with pool.acquire() as conn:
        await record_dead_letters(conn, letters)
        await conn.execute(
            "INSERT INTO ingest_activity (minute, domain, readings, newest) "
            "SELECT m, d.domain, d.readings, m + interval '59 seconds' "
            "FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 minute', "
            "interval '1 minute') AS m, unnest($3::text[], $4::bigint[]) AS d(domain, readings) "
            "ON CONFLICT (minute, domain) DO NOTHING",
            start,
            now,
            list(per_minute),
            list(per_minute.values()),
        )
        await conn.execute("ANALYZE")


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_read(node: dict[str, Any]) -> float:
    """What a scan node read: rows it returned plus those its filters dropped, over all loops."""
    loops = node.get("Actual Loops", 1)
    kept = node.get("Actual Rows", 0)
    dropped = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return float((kept + dropped) * loops)


async def _allowed_relations(conn: asyncpg.Connection) -> set[str]:
    """ingest_activity and dead_letters, and their partitions or chunks (none of readings')."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_class c WHERE c.relname IN ('ingest_activity', 'dead_letters') "
        "OR c.oid IN (SELECT inhrelid FROM pg_inherits "
        "             WHERE inhparent IN ('ingest_activity'::regclass, 'dead_letters'::regclass))"
    )
    return {r["relname"] for r in rows}


@pytest.mark.parametrize("span", list(RANGES))
async def test_ingest_health_reads_a_bounded_number_of_rows(
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    registry: Registry,
    geography: Geography,
    now: datetime,
    span: str,
) -> None:
    per_minute = demo_readings_per_minute(registry, geography)
    await _thirty_days(pool, prepared.backend, per_minute, now)
    start = now - RANGES[span]
    domains = len(registry.domains_in_use())
    minutes = RANGES[span] / timedelta(minutes=1)
    bounds = {
        "rate": domains * (minutes + 1),  # a range's minutes, both ends included
        "lag": domains,  # the newest minute of each domain, nothing more
        "dead_letters": DEAD_LETTERS,
        "dead_letters_total": DEAD_LETTERS,
    }
    async with pool.acquire() as conn:
        allowed = await _allowed_relations(conn)
        assert await conn.fetchval("SELECT sum(readings) FROM ingest_activity") > 1_000_000
        for name, sql in ingest_health_queries(registry, Lang.ZH).items():
            query = expand(
                sql,
                start,
                now,
                variables={},
                interval=calculate_interval(start, now),
                timescaledb=prepared.backend is Backend.TIMESCALEDB,
            )
            explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}")
            plan = json.loads(explained)[0]["Plan"]
            shown = json.dumps(plan, indent=1)
            scans = [node for node in _nodes(plan) if "Relation Name" in node]
            touched = {node["Relation Name"] for node in scans}
            assert scans, f"{name}: no table read?\n{shown}"
            assert touched <= allowed, f"{name} reads {touched - allowed}:\n{shown}"
            # Not TimescaleDB's ChunkAppend: it names the hypertable above its chunks' own scans.
            read = sum(_rows_read(n) for n in scans if n["Node Type"] != "Custom Scan")
            print(f"{prepared.backend.value} {span} {name}: {read:.0f} rows read")
            if name in ("rate", "lag"):  # every minute of the range has activity
                assert read >= domains, f"{name}: read {read} rows, expected some:\n{shown}"
            assert read <= bounds[name], f"{name} read {read} rows > {bounds[name]}:\n{shown}"
