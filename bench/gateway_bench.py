"""Gateway: latency of a one-week range query at 5-minute buckets over 30 days of history.

1,000 water-pressure gauges spread over the 12 subdistricts report every 5 minutes for 30 days
(8.64 million readings, written with the storage writer's COPY, a day at a time). The storage
scheduler then runs as it would have during those days (one pass per simulated day), so the
rollups exist. The gateway serves on a real socket; one client asks, one request at a time, for a
random week of one sensor, and of one subdistrict's gauges (about 83 sensors), and the figures
are the p50 and p99 of the full HTTP round trip.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench.report import Figure
from cityvitals.embedded import EmbeddedPostgres
from cityvitals.settings import load_settings
from schemas.geography import Geography, load_geography
from schemas.registry import load_registry
from storage.backend import BackendPreference
from storage.buckets import bucket_start
from storage.catalog import load_catalog
from storage.maintenance import Maintenance
from storage.partitions import days_between, ensure_partitions
from storage.policy import StoragePolicy
from storage.pool import create_pool
from storage.setup import prepare_database
from storage.writer import ReadingWriter

SENSORS = 1_000
DAYS = 30
EVERY = timedelta(minutes=5)
TYPE = "water_main_pressure"
WEEK = timedelta(days=7)
WARMUP = 20
QUERIES = 200
# Loading needs no durability (a lost bench database is rebuilt); the queries run on a modest
# buffer cache (the rollups alone are 1.4 GB here; a server for this fleet would have more).
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "4GB",
    "shared_buffers": "1GB",
}


async def load_history(url: str, now: datetime, geography: Geography) -> tuple[list[str], int]:
    """Sensors and 30 days of readings; returns (sensor ids, rows written)."""
    conn = await asyncpg.connect(url)
    prepared = await prepare_database(
        conn,
        preference=BackendPreference.AUTO,
        policy=StoragePolicy(),
        registry=load_registry(),
        geography=geography,
        inventory=None,
        now=now,
    )
    ids = [f"bench-wp-{i:04d}" for i in range(SENSORS)]
    places = list(geography)
    await conn.executemany(
        "INSERT INTO sensors (external_id, sensor_type_id, subdistrict_id, origin) "
        "SELECT $1, t.id, d.id, 'api' FROM sensor_types t, subdistricts d "
        "WHERE t.name = $2 AND d.code = $3",
        [(sid, TYPE, places[i % len(places)].code) for i, sid in enumerate(ids)],
    )
    start = bucket_start(now - timedelta(days=DAYS), timedelta(days=1))
    await ensure_partitions(conn, days_between(start, now + timedelta(days=1)))
    catalog = await load_catalog(conn)
    await conn.close()
    keys = [catalog.sensors[sid].id for sid in ids]
    metric = catalog.metric_ids[(TYPE, "pressure")]
    pool = await create_pool(url, min_size=1, max_size=2)
    writer = ReadingWriter(pool, prepared.backend)
    maintenance = Maintenance(pool, prepared.backend, StoragePolicy())
    rng = random.Random(6)
    written = 0
    day = start
    while day < now:
        rows = []
        slots = min(int(timedelta(days=1) / EVERY), int((now - day) / EVERY))
        for slot in range(slots):
            ts = day + slot * EVERY
            rows += [(ts, key, metric, 0.3 + rng.uniform(-0.05, 0.05)) for key in keys]
        written += (await writer.write(rows)).inserted
        day += timedelta(days=1)
        await maintenance.run_once(min(day, now))  # the scheduler, as it ran that day
    await pool.execute("VACUUM ANALYZE")
    await pool.close()
    return ids, written


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


async def _measure(
    client: httpx.AsyncClient, params: list[dict[str, str]], headers: dict[str, str]
) -> list[float]:
    timings = []
    for i, query in enumerate(params):
        began = time.perf_counter()
        response = await client.get("/v1/readings", params=query, headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{query}: {response.status_code} {response.text[:300]}")
        if i >= WARMUP:
            timings.append(elapsed * 1000)
    return timings


async def measure(url: str) -> list[Figure]:
    import uvicorn

    from cityvitals.configs import gateway_config
    from gateway.app import create_app
    from gateway.keys import create_key

    now = bucket_start(datetime.now(UTC), EVERY)
    began = time.perf_counter()
    geography = load_geography()  # the shipped default: the figures compare releases
    places = list(geography)
    ids, written = await load_history(url, now, geography)
    load_s = time.perf_counter() - began
    settings = load_settings(database_url=url)  # the broker only matters to /readyz
    app = create_app(gateway_config(settings))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with app.state.gateway.pool.acquire() as conn:
        _, secret = await create_key(conn, "bench", "viewer")
    rng = random.Random(7)

    def week() -> dict[str, str]:
        start = now - timedelta(days=DAYS) + timedelta(minutes=5 * rng.randrange(23 * 288))
        return {"start": start.isoformat(), "end": (start + WEEK).isoformat()}

    base = {"metric": "pressure", "bucket": "5m"}
    one = [{**base, **week(), "sensor": rng.choice(ids)} for _ in range(WARMUP + QUERIES)]
    group = [
        {**base, **week(), "type": TYPE, "subdistrict": rng.choice(places).code}
        for _ in range(WARMUP + QUERIES)
    ]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            headers = {"X-API-Key": secret}
            sensor_ms = await _measure(client, one, headers)
            subdistrict_ms = await _measure(client, group, headers)
            probe = (await client.get("/v1/readings", params=group[0], headers=headers)).json()
    finally:
        server.should_exit = True
        await serving
    note = (
        f"{SENSORS:,} sensors x {DAYS} d every 5 min ({written / 1e6:.2f}M rows, loaded in "
        f"{load_s:.0f}s); 1-week range, 5-min buckets, source {probe['source']}, {QUERIES} "
        "queries, shared_buffers 1GB"
    )
    per = f"{probe['sensors']} sensors per subdistrict"
    return [
        Figure("gateway.range_sensor.p50_ms", statistics.median(sensor_ms), "ms", note),
        Figure("gateway.range_sensor.p99_ms", p99(sensor_ms), "ms", "target < 200"),
        Figure("gateway.range_subdistrict.p50_ms", statistics.median(subdistrict_ms), "ms", per),
        Figure(
            "gateway.range_subdistrict.p99_ms",
            p99(subdistrict_ms),
            "ms",
            "target < 200",
        ),
    ]


def run() -> list[Figure]:
    base = Path(tempfile.mkdtemp(prefix="cv-bench-gw-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data", extra_settings=SERVER_SETTINGS)
    server.start()
    try:
        server.create_database("bench")
        return asyncio.run(measure(server.url_for("bench")))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
