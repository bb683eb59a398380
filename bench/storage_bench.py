"""Storage: the batch writer against raw COPY of the same rows into the same table, on plain
PostgreSQL and (where installed) TimescaleDB, and the bytes a reading takes on disk on each.

Writer and COPY write identical batches into an emptied `readings` table on the same throwaway
server, alternating runs so neither gets a warmer cache; the figure is the median of the runs.
Both backends get the same batches, each on a server of its own. The PostgreSQL figures keep
their names (storage.writer.rows_per_s ...); TimescaleDB's are under storage.timescaledb.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.report import Figure
from bench.storage_size import measure_sizes
from cityvitals.embedded import TIMESCALEDB_SETTINGS, EmbeddedPostgres, timescaledb_available
from storage.backend import Backend, BackendPreference
from storage.migrate import migrate
from storage.partitions import days_between, ensure_partitions, ensure_partitions_ahead
from storage.writer import COLUMNS, ReadingWriter, Row

SENSORS = 4_000
METRICS_PER_SENSOR = 3
BATCH = 5_000
BATCHES_PER_RUN = 80  # 400k rows a run
RUNS = 3


def make_batches(start: datetime) -> list[list[Row]]:
    """Rows in arrival order: each report carries a sensor's metrics at one time, times rising."""
    rng = random.Random(7)
    rows: list[Row] = []
    tick = 0
    while len(rows) < BATCH * BATCHES_PER_RUN:
        ts = start + timedelta(seconds=tick)
        for sensor in rng.sample(range(1, SENSORS + 1), 400):
            rows.extend(
                (ts, sensor, m, rng.uniform(0, 100)) for m in range(1, METRICS_PER_SENSOR + 1)
            )
        tick += 1
    rows = rows[: BATCH * BATCHES_PER_RUN]
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


async def _timed(action: Callable[[], Awaitable[None]], rows: int) -> float:
    began = time.perf_counter()
    await action()
    return rows / (time.perf_counter() - began)


async def _reset(pool: asyncpg.Pool, backend: Backend) -> None:
    await pool.execute("TRUNCATE readings")
    if backend is Backend.POSTGRES:  # TimescaleDB keeps its invalidation log itself
        await pool.execute("TRUNCATE rollup_invalidations")
    await pool.execute("CHECKPOINT")


async def measure(url: str, preference: BackendPreference = BackendPreference.AUTO) -> list[Figure]:
    conn = await asyncpg.connect(url)
    result = await migrate(conn, preference)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    if result.backend is Backend.POSTGRES:
        await ensure_partitions_ahead(conn, start, 2)
        await ensure_partitions(conn, days_between(start, start + timedelta(hours=2)))
    await conn.close()
    batches = make_batches(start)
    total = sum(len(b) for b in batches)
    pool = await asyncpg.create_pool(url, min_size=2, max_size=2)
    assert pool is not None
    writer = ReadingWriter(pool, result.backend)

    async def copy_all() -> None:
        async with pool.acquire() as c:
            for batch in batches:
                await c.copy_records_to_table("readings", records=batch, columns=COLUMNS)

    async def write_all() -> None:
        for batch in batches:
            await writer.write(batch)

    postgres = result.backend is Backend.POSTGRES
    copy_rates, writer_rates, redelivery_rates = [], [], []
    for _ in range(RUNS):
        await _reset(pool, result.backend)
        copy_rates.append(await _timed(copy_all, total))
        await _reset(pool, result.backend)
        writer_rates.append(await _timed(write_all, total))
        if postgres:  # every batch again: what a full redelivery after a crash costs
            redelivery_rates.append(await _timed(write_all, total))
    stored = await pool.fetchval("SELECT count(*) FROM readings")
    await pool.close()
    if stored != total:
        raise RuntimeError(f"writer stored {stored} rows of {total}")
    copy_rate, writer_rate = statistics.median(copy_rates), statistics.median(writer_rates)
    note = f"{result.backend.value}, {BATCH}-row batches, median of {RUNS}"
    if not postgres:
        return [
            Figure("storage.timescaledb.copy.rows_per_s", copy_rate, "rows/s", note),
            Figure("storage.timescaledb.writer.rows_per_s", writer_rate, "rows/s", note),
        ]
    return [
        Figure("storage.copy.rows_per_s", copy_rate, "rows/s", note),
        Figure("storage.writer.rows_per_s", writer_rate, "rows/s", note),
        Figure("storage.writer.ratio_to_copy", writer_rate / copy_rate, "ratio", "target >= 0.8"),
        Figure(
            "storage.writer.redelivered_rows_per_s",
            statistics.median(redelivery_rates),
            "rows/s",
            "every row a duplicate",
        ),
    ]


@contextlib.contextmanager
def _server(name: str, settings: dict[str, str] | None = None) -> Iterator[EmbeddedPostgres]:
    base = Path(tempfile.mkdtemp(prefix=f"cv-bench-{name}-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data", extra_settings=settings)
    server.start()
    try:
        for database in ("bench", "bench_size"):
            server.create_database(database)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


async def _measure_all(
    postgres: EmbeddedPostgres, timescaledb: EmbeddedPostgres | None
) -> list[Figure]:
    figures = await measure(postgres.url_for("bench"), BackendPreference.POSTGRES)
    if timescaledb is None:
        print(
            "storage: TimescaleDB is not installed here; no storage.timescaledb figures", flush=True
        )
    else:
        figures += await measure(timescaledb.url_for("bench"), BackendPreference.TIMESCALEDB)
    tsdb_url = timescaledb.url_for("bench_size") if timescaledb is not None else None
    return figures + await measure_sizes(postgres.url_for("bench_size"), tsdb_url)


def run() -> list[Figure]:
    with contextlib.ExitStack() as servers:
        postgres = servers.enter_context(_server("pg"))
        timescaledb = (
            servers.enter_context(_server("tsdb", TIMESCALEDB_SETTINGS))
            if timescaledb_available()
            else None
        )
        return asyncio.run(_measure_all(postgres, timescaledb))
