"""Storage: the batch writer against raw COPY of the same rows into the same table.

Both write identical batches into an emptied `readings` table on the same throwaway server,
alternating runs so neither gets a warmer cache; the figure is the median of the runs.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.report import Figure
from cityvitals.embedded import EmbeddedPostgres
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


async def _reset(pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE readings")
    await pool.execute("TRUNCATE rollup_invalidations")
    await pool.execute("CHECKPOINT")


async def measure(url: str) -> list[Figure]:
    conn = await asyncpg.connect(url)
    result = await migrate(conn, BackendPreference.AUTO)
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

    copy_rates, writer_rates, redelivery_rates = [], [], []
    for _ in range(RUNS):
        await _reset(pool)
        copy_rates.append(await _timed(copy_all, total))
        await _reset(pool)
        writer_rates.append(await _timed(write_all, total))
        # Every batch again: what a full redelivery after a crash costs.
        redelivery_rates.append(await _timed(write_all, total))
    stored = await pool.fetchval("SELECT count(*) FROM readings")
    await pool.close()
    if stored != total:
        raise RuntimeError(f"writer stored {stored} rows of {total}")
    copy_rate, writer_rate = statistics.median(copy_rates), statistics.median(writer_rates)
    note = f"{result.backend.value}, {BATCH}-row batches, median of {RUNS}"
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


def run() -> list[Figure]:
    base = Path(tempfile.mkdtemp(prefix="cv-bench-pg-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data")
    server.start()
    try:
        server.create_database("bench")
        return asyncio.run(measure(server.url_for("bench")))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
