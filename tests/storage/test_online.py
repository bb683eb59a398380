"""The effective online state: the status topic's word, else what a sensor's readings say.

Time is stepped by passing `now`: one reading is written, then the state is asked for at the
instants around each edge (the grace of three reporting intervals, the week looked back).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from alerts.rules.defaults import DEFAULT_ABSENCE_INTERVALS
from schemas.registry import Registry
from storage.api_sensors import get_sensor, list_sensors
from storage.backend import Backend
from storage.catalog import Catalog, load_catalog
from storage.online import HISTORY, OFFLINE_AFTER_INTERVALS, online_join, online_window
from storage.status import StatusChange, record_status_changes
from storage.vital_signs import sensor_counts
from storage.writer import ReadingWriter
from tests.harness import ScratchDatabase

# water_main_pressure reports every 60 s: online until 3 minutes of silence.
GAUGE_GRACE = timedelta(seconds=60 * OFFLINE_AFTER_INTERVALS)
SECOND = timedelta(seconds=1)
_STATE = (
    f"SELECT o.online FROM sensors s {online_join('$1::timestamptz', '$2::interval')}"
    " WHERE s.external_id = $3"
)


@pytest.fixture
async def catalog(pool: asyncpg.Pool) -> Catalog:
    async with pool.acquire() as connection:
        return await load_catalog(connection)


async def report(
    pool: asyncpg.Pool, backend: Backend, catalog: Catalog, sensor: str, ts: datetime
) -> None:
    """One reading of the sensor's first metric at `ts`, as the ingest would store it."""
    ref = catalog.sensors[sensor]
    metric_id = min(i for (t, _), i in catalog.metric_ids.items() if t == ref.type_name)
    await ReadingWriter(pool, backend).write([(ts, ref.id, metric_id, 0.3)])


async def state_at(pool: asyncpg.Pool, sensor: str, now: datetime) -> bool | None:
    async with pool.acquire() as conn:
        state: bool | None = await conn.fetchval(_STATE, now, await online_window(conn), sensor)
        return state


def test_the_grace_is_the_alert_engines_offline_silence() -> None:
    assert OFFLINE_AFTER_INTERVALS == DEFAULT_ABSENCE_INTERVALS


async def test_a_telemetry_only_sensor_is_online_while_it_reports(
    pool: asyncpg.Pool, prepared: ScratchDatabase, catalog: Catalog, now: datetime
) -> None:
    await report(pool, prepared.backend, catalog, "yp-wp-0001", now)
    assert await state_at(pool, "yp-wp-0001", now - SECOND) is None  # not yet reported
    assert await state_at(pool, "yp-wp-0001", now) is True
    assert await state_at(pool, "yp-wp-0001", now + GAUGE_GRACE - SECOND) is True
    # The default "sensor offline" rule fires at exactly this silence.
    assert await state_at(pool, "yp-wp-0001", now + GAUGE_GRACE) is False
    assert await state_at(pool, "yp-wp-0001", now + HISTORY - SECOND) is False
    assert await state_at(pool, "yp-wp-0001", now + HISTORY) is None  # beyond the look-back


async def test_the_grace_follows_the_types_reporting_interval(
    pool: asyncpg.Pool, prepared: ScratchDatabase, catalog: Catalog, now: datetime
) -> None:
    smoke = next(s for s, ref in catalog.sensors.items() if ref.type_name == "smoke_detector")
    await report(pool, prepared.backend, catalog, smoke, now)
    # Hourly: three hours of silence are still within its grace, a gauge's three minutes long past.
    assert await state_at(pool, smoke, now + timedelta(hours=3) - SECOND) is True
    assert await state_at(pool, smoke, now + timedelta(hours=3)) is False


async def test_one_query_judges_each_sensor_by_its_own_types_interval(
    pool: asyncpg.Pool,
    prepared: ScratchDatabase,
    catalog: Catalog,
    registry: Registry,
    now: datetime,
) -> None:
    # One sensor of every type reports at `now`; three minutes later, only those whose type
    # reports at least once a minute are offline. (A grace computed once and reused for the next
    # sensors in the same query got this wrong: see storage.online.online_join.)
    first_of_type: dict[str, str] = {}
    for sensor, ref in sorted(catalog.sensors.items()):
        first_of_type.setdefault(ref.type_name, sensor)
    for sensor in first_of_type.values():
        await report(pool, prepared.backend, catalog, sensor, now)
    later = now + GAUGE_GRACE
    async with pool.acquire() as conn:
        offline = await list_sensors(conn, later, status="offline", limit=1000)
    expected = {
        sensor
        for type_name, sensor in first_of_type.items()
        if registry.types[type_name].reporting_interval <= 60  # seconds
    }
    assert len(first_of_type) == len(registry.types)
    assert 0 < len(expected) < len(first_of_type)
    assert {s["id"] for s in offline} == expected


async def test_a_sensor_that_never_reported_is_unknown(pool: asyncpg.Pool, now: datetime) -> None:
    assert await state_at(pool, "yp-wp-0002", now) is None


async def test_a_status_topic_sensor_follows_its_status_not_its_readings(
    pool: asyncpg.Pool, prepared: ScratchDatabase, catalog: Catalog, now: datetime
) -> None:
    said_offline, said_online = catalog.sensors["yp-wp-0001"].id, catalog.sensors["yp-wp-0002"].id
    await report(pool, prepared.backend, catalog, "yp-wp-0001", now)
    async with pool.acquire() as conn:
        await record_status_changes(
            conn,
            [
                StatusChange(said_offline, now - timedelta(hours=1), False),
                StatusChange(said_online, now - timedelta(hours=1), True),
            ],
        )
    assert await state_at(pool, "yp-wp-0001", now) is False  # reporting, yet its will said offline
    assert await state_at(pool, "yp-wp-0002", now + HISTORY) is True  # silent, its birth stands


async def test_the_api_and_the_vital_signs_use_the_effective_state(
    pool: asyncpg.Pool, prepared: ScratchDatabase, catalog: Catalog, now: datetime
) -> None:
    # Yinhang has yp-wp-0001 (reporting) and yp-wp-0002 (silent for an hour).
    await report(pool, prepared.backend, catalog, "yp-wp-0001", now - timedelta(minutes=1))
    await report(pool, prepared.backend, catalog, "yp-wp-0002", now - timedelta(hours=1))
    async with pool.acquire() as conn:
        one = await get_sensor(conn, "yp-wp-0001", now)
        online = await list_sensors(conn, now, status="online")
        offline = await list_sensors(conn, now, status="offline")
        unknown = await list_sensors(conn, now, status="unknown", limit=1000)
        everything = await list_sensors(conn, now, limit=1000)
        counts = await sensor_counts(conn, now, domain="water")
    assert one is not None
    assert one["online"] is True
    assert [s["id"] for s in online] == ["yp-wp-0001"]
    assert [s["id"] for s in offline] == ["yp-wp-0002"]
    assert len(unknown) == len(everything) - 2
    yinhang = next(c for c in counts if c["subdistrict"] == "yinhang")
    assert (yinhang["online"], yinhang["offline"]) == (1, 1)
    assert sum(c["online"] + c["offline"] for c in counts) == 2
