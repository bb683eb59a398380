"""Bytes per reading on disk: plain PostgreSQL's daily partitions against TimescaleDB's daily
chunks before and after compression, for the same days of the same city (`bench.storage_city`).

Sizes count everything a reading costs: the table, its indexes and TOAST, after a VACUUM (which
a running system's autovacuum does too). TimescaleDB's chunks are compressed as the compression
policy would (storage/ sets segment-by sensor, order by metric and time), just without waiting
the policy's seven days.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.report import Figure
from bench.storage_city import DAYS, SENSORS, City
from storage.backend import Backend, BackendPreference
from storage.migrate import migrate
from storage.partitions import days_between, ensure_partitions
from storage.writer import COLUMNS, Row

_POSTGRES_BYTES = """
SELECT sum(pg_total_relation_size(inhrelid))::bigint FROM pg_inherits
WHERE inhparent = 'readings'::regclass
"""
_COMPRESS_ALL = "SELECT count(compress_chunk(c)) FROM show_chunks('readings') c"
_UNCOMPRESSED_CHUNKS = """
SELECT count(*) FROM timescaledb_information.chunks
WHERE hypertable_name = 'readings' AND NOT is_compressed
"""


@dataclass(frozen=True)
class _Sizes:
    readings: int
    postgres_bytes: int
    timescaledb_bytes: int | None = None
    timescaledb_compressed_bytes: int | None = None


async def measure_sizes(postgres_url: str, timescaledb_url: str | None) -> list[Figure]:
    """The city's days in a fresh database on each server, then their sizes."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=DAYS + 1)  # whole days in the past, as data being compressed is
    targets = {Backend.POSTGRES: await asyncpg.connect(postgres_url)}
    if timescaledb_url is not None:
        targets[Backend.TIMESCALEDB] = await asyncpg.connect(timescaledb_url)
    try:
        for backend, conn in targets.items():
            await migrate(conn, BackendPreference(backend.value))
        days = days_between(start, start + timedelta(days=DAYS) - timedelta(microseconds=1))
        await ensure_partitions(targets[Backend.POSTGRES], days)
        print(
            f"storage: writing {DAYS} days of a {SENSORS:,}-sensor city into "
            f"{' and '.join(targets)} ...",
            flush=True,
        )
        await _write_city(City(), start, list(targets.values()))
        sizes = await _sizes(targets)
    finally:
        for conn in targets.values():
            await conn.close()
    return _figures(sizes)


async def _write_city(city: City, start: datetime, targets: list[asyncpg.Connection]) -> None:
    # The next hour is simulated in a thread while this one is copied: the servers work on
    # their own cores meanwhile.
    hours = city.hours(start)
    upcoming = asyncio.create_task(asyncio.to_thread(next, hours, None))
    while (rows := await upcoming) is not None:
        upcoming = asyncio.create_task(asyncio.to_thread(next, hours, None))
        for conn in targets:
            await _copy(conn, rows)


async def _copy(conn: asyncpg.Connection, rows: list[Row]) -> None:
    await conn.copy_records_to_table("readings", records=rows, columns=COLUMNS)


async def _sizes(targets: dict[Backend, asyncpg.Connection]) -> _Sizes:
    counts = set()
    for conn in targets.values():
        await conn.execute("VACUUM ANALYZE readings")
        counts.add(await conn.fetchval("SELECT count(*) FROM readings"))
    if len(counts) != 1:
        raise RuntimeError(f"the backends hold different numbers of readings: {counts}")
    readings = counts.pop()
    postgres_bytes = await targets[Backend.POSTGRES].fetchval(_POSTGRES_BYTES)
    timescaledb = targets.get(Backend.TIMESCALEDB)
    if timescaledb is None:
        return _Sizes(readings, postgres_bytes)
    before = await timescaledb.fetchval("SELECT hypertable_size('readings')")
    print("storage: compressing the TimescaleDB chunks ...", flush=True)
    await timescaledb.execute(_COMPRESS_ALL)
    if left := await timescaledb.fetchval(_UNCOMPRESSED_CHUNKS):
        raise RuntimeError(f"{left} chunks of readings are still uncompressed")
    await timescaledb.execute("VACUUM ANALYZE readings")
    after = await timescaledb.fetchval("SELECT hypertable_size('readings')")
    return _Sizes(readings, postgres_bytes, before, after)


def _figures(sizes: _Sizes) -> list[Figure]:
    note = f"{sizes.readings:,} readings, {DAYS} days of {SENSORS:,} sensors"
    postgres = sizes.postgres_bytes / sizes.readings
    figures = [
        Figure("storage.postgres.bytes_per_reading", postgres, "bytes", f"{note}, with indexes")
    ]
    if sizes.timescaledb_bytes is None or sizes.timescaledb_compressed_bytes is None:
        return figures
    compressed = sizes.timescaledb_compressed_bytes / sizes.readings
    return [
        *figures,
        Figure(
            "storage.timescaledb.bytes_per_reading",
            sizes.timescaledb_bytes / sizes.readings,
            "bytes",
            "before compression, with indexes",
        ),
        Figure(
            "storage.timescaledb.bytes_per_reading_compressed",
            compressed,
            "bytes",
            "segmented by sensor, with indexes",
        ),
        Figure(
            "storage.timescaledb.compressed_to_postgres",
            compressed / postgres,
            "ratio",
            "target <= 0.1",
        ),
    ]
