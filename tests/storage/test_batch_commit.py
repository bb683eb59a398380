"""A batch - readings, dead letters, status changes - is committed whole, and once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg
import pytest

from storage.catalog import Catalog, load_catalog
from storage.dead_letters import DeadLetter
from storage.errors import StorageError
from storage.pool import create_pool
from storage.status import StatusChange
from storage.writer import ReadingWriter, Row
from tests.harness import ScratchDatabase


@pytest.fixture
async def one_connection(prepared: ScratchDatabase) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection: the writer's server-side statistics are that session's."""
    pool = await create_pool(prepared.url, min_size=1, max_size=1)
    yield pool
    await pool.close()


@pytest.fixture
async def catalog(one_connection: asyncpg.Pool) -> Catalog:
    async with one_connection.acquire() as conn:
        return await load_catalog(conn)


def _rows(catalog: Catalog, start: datetime, count: int) -> list[Row]:
    sensor_id = catalog.sensors["yp-wp-0001"].id
    metric_id = catalog.metric_ids[("water_main_pressure", "pressure")]
    return [(start + timedelta(seconds=i), sensor_id, metric_id, 0.3) for i in range(count)]


def _letter(payload: bytes, at: datetime, *, redelivered: bool = False) -> DeadLetter:
    return DeadLetter(
        "mqtt",
        "city/v1/water/yinhang/yp-wp-0001/telemetry",
        payload,
        "bad_json",
        None,
        "payload: not valid JSON",
        at,
        redelivered,
    )


async def _rolled_back(pool: asyncpg.Pool) -> int:
    """Transactions the database rolled back so far (a failed COPY is one of them)."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_stat_force_next_flush()")
        await conn.execute("SELECT 1")  # ends a transaction: this session's counts are flushed
        return int(
            await conn.fetchval(
                "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
        )


async def test_a_failing_part_stores_none_of_the_batch(
    prepared: ScratchDatabase, one_connection: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(one_connection, prepared.backend)
    unstorable = replace(_letter(b"[", now), detail="a NUL \x00 that text columns refuse")
    with pytest.raises(StorageError):
        await writer.write(
            _rows(catalog, now - timedelta(hours=1), 10),
            [_letter(b"{", now), unstorable],
            [StatusChange(catalog.sensors["yp-wp-0001"].id, now, False)],
        )
    # Nothing of it: no readings, no dead letter, no status, although some parts were fine.
    async with one_connection.acquire() as conn:
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM readings) AS r, (SELECT count(*) FROM dead_letters) "
            "AS d, (SELECT count(*) FROM sensor_status) AS s"
        )
    assert counts is not None
    assert tuple(counts) == (0, 0, 0)


async def test_a_redelivered_batch_stores_nothing_twice_and_raises_no_error(
    prepared: ScratchDatabase, one_connection: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    writer = ReadingWriter(one_connection, prepared.backend)
    rows = _rows(catalog, now - timedelta(hours=1), 500)
    sensor = catalog.sensors["yp-wp-0001"].id
    status = [StatusChange(sensor, now, online=False, sender_timed=False)]
    first = await writer.write(rows, [_letter(b"{", now)], status)
    assert (first.inserted, first.duplicates) == (500, 0)
    before = await _rolled_back(one_connection)

    later = now + timedelta(minutes=1)  # a redelivery arrives later, its status timed anew
    again = await writer.write(
        rows,
        [_letter(b"{", later, redelivered=True)],
        [StatusChange(sensor, later, online=False, sender_timed=False)],
        redelivered=True,
    )
    assert (again.inserted, again.duplicates) == (0, 500)
    # Straight to the conflict-skipping path: no failed COPY, so no error in the server's log.
    assert await _rolled_back(one_connection) == before
    async with one_connection.acquire() as conn:
        letters = await conn.fetch("SELECT repeats, last_received_at FROM dead_letters")
        history = await conn.fetch("SELECT ts, online FROM sensor_status")
        readings = await conn.fetchval("SELECT count(*) FROM readings")
    assert [(r["repeats"], r["last_received_at"]) for r in letters] == [(1, None)]
    assert [(r["ts"], r["online"]) for r in history] == [(now, False)]
    assert readings == 500

    # Not marked as redelivered, the same readings take the COPY path first: that one fails
    # (and is rolled back) before the batch is written again skipping them. The check above
    # would have seen it.
    await writer.write(rows)
    assert await _rolled_back(one_connection) == before + 1


async def test_the_same_bad_bytes_sent_again_are_one_letter_counted_twice(
    prepared: ScratchDatabase, one_connection: asyncpg.Pool, now: datetime
) -> None:
    writer = ReadingWriter(one_connection, prepared.backend)
    later = now + timedelta(minutes=5)
    await writer.write([], [_letter(b"{", now), _letter(b"[", now)])
    await writer.write([], [_letter(b"{", later)])
    await one_connection.execute("UPDATE dead_letters SET replayed_at = $1", now)
    await writer.write([], [_letter(b"{", later + timedelta(minutes=1))])
    async with one_connection.acquire() as conn:
        letters = await conn.fetch(
            "SELECT payload, repeats, received_at, last_received_at, replayed_at "
            "FROM dead_letters ORDER BY payload"
        )
    by_payload = {bytes(r["payload"]): r for r in letters}
    assert set(by_payload) == {b"{", b"["}
    curly = by_payload[b"{"]
    assert (curly["repeats"], curly["received_at"]) == (3, now)
    assert curly["last_received_at"] == later + timedelta(minutes=1)
    # It failed again after a replay: outstanding again.
    assert curly["replayed_at"] is None
    assert by_payload[b"["]["repeats"] == 1
