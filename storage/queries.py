"""Read queries shared by the gateway, the alert engine and the dashboards.

The same SQL runs on both backends: `readings_1m` / `readings_1h` are continuous aggregates on
TimescaleDB and watermark views over rollup tables on PostgreSQL, with identical columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg

from storage.buckets import ORIGIN_SQL, bucket_end, bucket_start

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
# Short spans read raw data: cheap, exact, and nothing is lost to rollup lag.
RAW_SPAN_LIMIT = timedelta(hours=6)
HOURLY_SPAN_FROM = timedelta(days=2)


class Source(StrEnum):
    RAW = "readings"
    ROLLUP_1M = "readings_1m"
    ROLLUP_1H = "readings_1h"


@dataclass(frozen=True)
class Bucket:
    start: datetime
    samples: int
    avg: float
    min: float
    max: float
    last: float | None  # None when asked without (see `range_buckets`)


@dataclass(frozen=True)
class LatestValue:
    sensor: str
    metric: str
    unit: str
    ts: datetime
    value: float


@dataclass(frozen=True)
class DistrictAggregate:
    subdistrict: str | None  # None: the whole district
    sensors: int
    reporting: int
    avg: float | None
    min: float | None
    max: float | None
    sum: float | None


def choose_source(start: datetime, end: datetime, bucket: timedelta) -> Source:
    """The cheapest source that answers exactly: a rollup only when its width divides `bucket`."""
    span = end - start
    if span <= RAW_SPAN_LIMIT or bucket < MINUTE:
        return Source.RAW
    if bucket % HOUR == timedelta(0) and span >= HOURLY_SPAN_FROM:
        return Source.ROLLUP_1H
    if bucket % MINUTE == timedelta(0):
        return Source.ROLLUP_1M
    return Source.RAW


_RAW_BUCKETS = f"""
SELECT date_bin($5::interval, ts, {ORIGIN_SQL}) AS start, count(*) AS samples, avg(value) AS avg,
       min(value) AS min, max(value) AS max, {{last}} AS last
FROM readings
WHERE sensor_id = ANY($1::integer[]) AND metric_id = $2 AND ts >= $3 AND ts < $4
GROUP BY 1 ORDER BY 1
"""
_ROLLUP_BUCKETS = """
SELECT date_bin($5::interval, bucket, {origin}) AS start, sum(samples)::bigint AS samples,
       sum(value_sum) / sum(samples) AS avg, min(value_min) AS min, max(value_max) AS max,
       {last} AS last
FROM {source}
WHERE sensor_id = ANY($1::integer[]) AND metric_id = $2 AND bucket >= $3 AND bucket < $4
GROUP BY 1 ORDER BY 1
"""
# An ordered aggregate rules out hash aggregation: over a subdistrict's week of rollup rows it
# costs more than the rest of the query, so callers that do not need `last` can skip it.
_LAST_RAW = "(array_agg(value ORDER BY ts DESC))[1]"
_LAST_ROLLUP = "(array_agg(value_last ORDER BY bucket DESC))[1]"
_NO_LAST = "NULL::double precision"


async def range_buckets(
    conn: asyncpg.Connection,
    sensor_ids: Sequence[int],
    metric_id: int,
    start: datetime,
    end: datetime,
    bucket: timedelta,
    source: Source | None = None,
    *,
    with_last: bool = True,
) -> list[Bucket]:
    """Aggregates per `bucket` over [start, end) across `sensor_ids` (one sensor or many);
    `with_last` False leaves `last` None (a group's "newest value" names no sensor anyway)."""
    start, end = bucket_start(start, bucket), bucket_end(end, bucket)
    chosen = source or choose_source(start, end, bucket)
    if chosen is Source.RAW:
        sql = _RAW_BUCKETS.format(last=_LAST_RAW if with_last else _NO_LAST)
    else:
        last = _LAST_ROLLUP if with_last else _NO_LAST
        sql = _ROLLUP_BUCKETS.format(origin=ORIGIN_SQL, source=chosen.value, last=last)
    rows = await conn.fetch(sql, list(sensor_ids), metric_id, start, end, bucket)
    return [Bucket(r["start"], r["samples"], r["avg"], r["min"], r["max"], r["last"]) for r in rows]


_LATEST = """
SELECT s.external_id AS sensor, m.name AS metric, m.unit, l.ts, l.value
FROM sensors s
JOIN metrics m ON m.sensor_type_id = s.sensor_type_id
CROSS JOIN LATERAL (
    SELECT r.ts, r.value FROM readings r
    WHERE r.sensor_id = s.id AND r.metric_id = m.id AND r.ts > $2 AND r.ts <= $3
    ORDER BY r.ts DESC LIMIT 1
) l
WHERE s.id = ANY($1::integer[])
ORDER BY s.external_id, m.name
"""


async def latest_values(
    conn: asyncpg.Connection,
    sensor_ids: Sequence[int],
    now: datetime,
    lookback: timedelta = timedelta(days=1),
) -> list[LatestValue]:
    """The newest reading of each metric of each sensor within `lookback` before `now`."""
    rows = await conn.fetch(_LATEST, list(sensor_ids), now - lookback, now)
    return [LatestValue(r["sensor"], r["metric"], r["unit"], r["ts"], r["value"]) for r in rows]


_DISTRICT = """
WITH latest AS (
    SELECT s.subdistrict_id, l.value
    FROM sensors s
    JOIN sensor_types t ON t.id = s.sensor_type_id AND t.name = $1
    JOIN metrics m ON m.sensor_type_id = t.id AND m.name = $2
    LEFT JOIN LATERAL (
        SELECT r.value FROM readings r
        WHERE r.sensor_id = s.id AND r.metric_id = m.id AND r.ts > $3 AND r.ts <= $4
        ORDER BY r.ts DESC LIMIT 1
    ) l ON true
)
SELECT d.code, count(latest.subdistrict_id) AS sensors, count(latest.value) AS reporting,
       avg(latest.value) AS avg, min(latest.value) AS min, max(latest.value) AS max,
       sum(latest.value) AS sum
FROM subdistricts d LEFT JOIN latest ON latest.subdistrict_id = d.id
GROUP BY GROUPING SETS ((d.id, d.code), ())
ORDER BY d.id NULLS LAST
"""


async def district_aggregates(
    conn: asyncpg.Connection,
    type_name: str,
    metric: str,
    now: datetime,
    lookback: timedelta,
) -> list[DistrictAggregate]:
    """Per subdistrict (all 12, in order) then district-wide (subdistrict None): aggregates of
    each sensor's latest value within `lookback`; `reporting` counts sensors that have one."""
    rows = await conn.fetch(_DISTRICT, type_name, metric, now - lookback, now)
    return [
        DistrictAggregate(
            r["code"], r["sensors"], r["reporting"], r["avg"], r["min"], r["max"], r["sum"]
        )
        for r in rows
    ]


async def sensor_ids(
    conn: asyncpg.Connection,
    *,
    type_name: str | None = None,
    subdistrict: str | None = None,
    external_ids: Sequence[str] | None = None,
) -> list[int]:
    rows = await conn.fetch(
        "SELECT s.id FROM sensors s JOIN sensor_types t ON t.id = s.sensor_type_id "
        "JOIN subdistricts d ON d.id = s.subdistrict_id "
        "WHERE ($1::text IS NULL OR t.name = $1) AND ($2::text IS NULL OR d.code = $2) "
        "AND ($3::text[] IS NULL OR s.external_id = ANY($3)) ORDER BY s.id",
        type_name,
        subdistrict,
        list(external_ids) if external_ids is not None else None,
    )
    return [r["id"] for r in rows]
