"""Query functions: the same answers from raw data and from rollups, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from storage.backend import Backend
from storage.catalog import Catalog, load_catalog
from storage.queries import (
    Source,
    choose_source,
    district_aggregates,
    latest_values,
    range_buckets,
    sensor_ids,
)
from storage.rollups import refresh_rollups
from storage.writer import ReadingWriter, Row
from tests.harness import ScratchDatabase

T0 = datetime(2026, 1, 5, 0, 0).astimezone()


@pytest.mark.parametrize(
    ("span", "bucket", "source"),
    [
        (timedelta(hours=1), timedelta(minutes=5), Source.RAW),
        (timedelta(days=1), timedelta(seconds=30), Source.RAW),
        (timedelta(days=1), timedelta(minutes=5), Source.ROLLUP_1M),
        (timedelta(days=7), timedelta(minutes=5), Source.ROLLUP_1M),
        (timedelta(days=1), timedelta(seconds=90), Source.RAW),
        (timedelta(days=30), timedelta(hours=1), Source.ROLLUP_1H),
        (timedelta(days=30), timedelta(days=1), Source.ROLLUP_1H),
        (timedelta(days=1), timedelta(hours=1), Source.ROLLUP_1M),
    ],
)
def test_source_is_chosen_by_span_and_bucket(
    span: timedelta, bucket: timedelta, source: Source
) -> None:
    assert choose_source(T0, T0 + span, bucket) is source


@pytest.fixture
async def catalog(pool: asyncpg.Pool) -> Catalog:
    async with pool.acquire() as connection:
        return await load_catalog(connection)


async def _write_day_of_pressure(
    pool: asyncpg.Pool, backend: Backend, catalog: Catalog, start: datetime
) -> list[Row]:
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    rows: list[Row] = []
    for n, sensor in enumerate(("yp-wp-0001", "yp-wp-0002")):
        sensor_id = catalog.sensors[sensor].id
        rows.extend(
            (start + timedelta(minutes=m), sensor_id, metric, 0.2 + n / 10 + (m % 60) / 1000)
            for m in range(24 * 60)
        )
    await ReadingWriter(pool, backend).write(rows)
    return rows


async def test_rollup_and_raw_buckets_agree(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    start = now - timedelta(days=2)
    await _write_day_of_pressure(pool, prepared.backend, catalog, start)
    async with pool.acquire() as connection:
        await refresh_rollups(connection, prepared.backend, now)
        ids = await sensor_ids(connection, type_name="water_main_pressure")
        metric = catalog.metric_ids[("water_main_pressure", "pressure")]
        end, width = start + timedelta(days=1), timedelta(hours=1)
        raw = await range_buckets(connection, ids, metric, start, end, width, Source.RAW)
        by_minute = await range_buckets(
            connection, ids, metric, start, end, width, Source.ROLLUP_1M
        )
        by_hour = await range_buckets(connection, ids, metric, start, end, width, Source.ROLLUP_1H)
    assert len(raw) == 24
    for a, b, c in zip(raw, by_minute, by_hour, strict=True):
        assert a.start == b.start == c.start
        assert a.samples == b.samples == c.samples == 120  # two sensors, one a minute
        assert a.avg == pytest.approx(b.avg) == pytest.approx(c.avg)
        assert (a.min, a.max) == (b.min, b.max) == (c.min, c.max)
    # Without `last` (hash aggregation): the same buckets, last left out.
    async with pool.acquire() as connection:
        for source, with_last in ((Source.RAW, raw), (Source.ROLLUP_1M, by_minute)):
            bare = await range_buckets(
                connection, ids, metric, start, end, width, source, with_last=False
            )
            assert [b.last for b in bare] == [None] * 24
            assert [(b.start, b.samples, b.min, b.max) for b in bare] == [
                (b.start, b.samples, b.min, b.max) for b in with_last
            ]


async def test_range_for_one_sensor_at_five_minutes(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    start = now - timedelta(days=2)
    await _write_day_of_pressure(pool, prepared.backend, catalog, start)
    sensor = catalog.sensors["yp-wp-0002"].id
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    async with pool.acquire() as connection:
        buckets = await range_buckets(
            connection,
            [sensor],
            metric,
            start + timedelta(minutes=3),
            start + timedelta(hours=12),
            timedelta(minutes=5),
        )
    assert len(buckets) == 12 * 12
    assert buckets[0].start == start  # start aligned down to the bucket grid
    assert buckets[0].samples == 5
    assert buckets[0].min == pytest.approx(0.3)
    assert buckets[0].last == pytest.approx(0.304)


async def test_latest_values_per_metric(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    ref = catalog.sensors["yp-wp-0001"]
    pressure = catalog.metric_ids[("water_main_pressure", "pressure")]
    battery = catalog.metric_ids[("water_main_pressure", "battery")]
    await ReadingWriter(pool, prepared.backend).write(
        [
            (now - timedelta(minutes=3), ref.id, pressure, 0.31),
            (now - timedelta(minutes=1), ref.id, pressure, 0.29),
            (now - timedelta(hours=2), ref.id, battery, 80.0),
            (now + timedelta(minutes=1), ref.id, pressure, 9.9),  # after 'now': not yet seen
        ]
    )
    async with pool.acquire() as connection:
        latest = await latest_values(connection, [ref.id], now)
    assert [(v.metric, v.value, v.unit) for v in latest] == [
        ("battery", 80.0, "%"),
        ("pressure", 0.29, "MPa"),
    ]
    assert latest[1].ts == now - timedelta(minutes=1)


async def test_district_aggregates_cover_all_subdistricts_and_the_district(
    prepared: ScratchDatabase, pool: asyncpg.Pool, catalog: Catalog, now: datetime
) -> None:
    metric = catalog.metric_ids[("parking_lot_counter", "occupancy")]
    lots = [ref for ref in catalog.sensors.values() if ref.type_name == "parking_lot_counter"]
    reporting = lots[:-1]  # the last lot is silent
    await ReadingWriter(pool, prepared.backend).write(
        [
            (now - timedelta(minutes=2), ref.id, metric, 50.0 + 10 * i)
            for i, ref in enumerate(reporting)
        ]
        + [(now - timedelta(days=2), lots[-1].id, metric, 99.0)]  # too old to count
    )
    async with pool.acquire() as connection:
        rows = await district_aggregates(
            connection, "parking_lot_counter", "occupancy", now, timedelta(minutes=15)
        )
    assert len(rows) == 13
    district = rows[-1]
    assert district.subdistrict is None
    assert (district.sensors, district.reporting) == (len(lots), len(reporting))
    expected = [50.0 + 10 * i for i in range(len(reporting))]
    assert district.avg == pytest.approx(sum(expected) / len(expected))
    assert district.max == max(expected)
    silent_home = lots[-1].subdistrict
    silent_row = next(r for r in rows if r.subdistrict == silent_home)
    assert silent_row.sensors - silent_row.reporting >= 1
