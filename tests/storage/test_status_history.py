"""Status history: every change once, whatever is delivered again."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from storage.catalog import load_catalog
from storage.status import StatusChange, record_status_changes
from tests.harness import ScratchDatabase


@pytest.fixture
async def sensor(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return (await load_catalog(conn)).sensors["yp-wp-0001"].id


async def _history(pool: asyncpg.Pool, sensor: int) -> list[tuple[datetime, bool]]:
    rows = await pool.fetch(
        "SELECT ts, online FROM sensor_status WHERE sensor_id = $1 ORDER BY ts", sensor
    )
    return [(r["ts"], r["online"]) for r in rows]


async def _current(pool: asyncpg.Pool, sensor: int) -> tuple[bool | None, datetime | None]:
    row = await pool.fetchrow("SELECT online, status_changed_at FROM sensors WHERE id = $1", sensor)
    assert row is not None
    return row["online"], row["status_changed_at"]


async def test_arrival_timed_statuses_are_recorded_only_as_changes(
    prepared: ScratchDatabase, pool: asyncpg.Pool, sensor: int, now: datetime
) -> None:
    def arrived(minutes: int, online: bool) -> StatusChange:
        return StatusChange(sensor, now + timedelta(minutes=minutes), online, sender_timed=False)

    async with pool.acquire() as conn:
        await record_status_changes(conn, [arrived(0, True)])
        # A retained birth replayed on a reconnect, and a will delivered twice.
        await record_status_changes(conn, [arrived(1, True), arrived(2, False)])
        await record_status_changes(conn, [arrived(3, False)])
        # Within one batch: each compared with the one before it.
        await record_status_changes(conn, [arrived(4, True), arrived(5, True), arrived(6, False)])
    assert await _history(pool, sensor) == [
        (now, True),
        (now + timedelta(minutes=2), False),
        (now + timedelta(minutes=4), True),
        (now + timedelta(minutes=6), False),
    ]
    assert await _current(pool, sensor) == (False, now + timedelta(minutes=6))


async def test_sender_timed_statuses_are_keyed_by_their_time(
    prepared: ScratchDatabase, pool: asyncpg.Pool, sensor: int, now: datetime
) -> None:
    offline = StatusChange(sensor, now, online=False)
    late_online = StatusChange(sensor, now - timedelta(minutes=10), online=True)
    async with pool.acquire() as conn:
        await record_status_changes(conn, [offline])
        await record_status_changes(conn, [offline, late_online])  # redelivered, plus a late one
    assert await _history(pool, sensor) == [(now - timedelta(minutes=10), True), (now, False)]
    # The late one is history, not the current state.
    assert await _current(pool, sensor) == (False, now)
