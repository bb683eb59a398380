"""Readings: range queries in time buckets, raw pages, and streamed exports.

A query names one sensor (`sensor`) or a group of sensors of one type (`type`, optionally in one
`subdistrict`), one metric, and [start, end). Limits keep a careless query from hurting the
database: at most gateway.max_points buckets; raw data only over gateway.max_raw_span; exports
over gateway.max_export_span, at most gateway.max_exports at once; every statement is cut off by
gateway.statement_timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from gateway.auth import viewer
from gateway.errors import Invalid, NotFound
from gateway.models import Page
from gateway.models_city import BucketSeries, RawReading
from gateway.openapi import errors
from gateway.pagination import decode_cursor, encode_cursor, page_size
from gateway.params import (
    Cursor,
    End,
    Limit,
    Start,
    SubdistrictCode,
    TypeName,
    check_moment,
    known_subdistrict,
)
from gateway.state import GatewayState, get_state
from schemas.durations import format_duration, parse_duration
from storage.api_keys import ApiKey
from storage.api_readings import raw_page
from storage.api_sensors import get_sensor
from storage.buckets import bucket_end, bucket_start
from storage.pool import connection
from storage.queries import Source, choose_source, range_buckets, sensor_ids

router = APIRouter(prefix="/v1/readings", tags=["readings"])
# Default bucket: the first width that gives at most DEFAULT_POINTS buckets over the span.
DEFAULT_WIDTHS = tuple(timedelta(seconds=s) for s in (60, 300, 900, 3600, 21600, 86400, 604800))
DEFAULT_POINTS = 1_000
MIN_BUCKET = timedelta(seconds=1)
# Wide enough for any wall; bounded so that aligning a range to buckets stays in the calendar.
MAX_BUCKET = timedelta(days=366)

Metric = Annotated[str, Query(min_length=1, max_length=64, description="Metric name")]
OneSensor = Annotated[str | None, Query(max_length=64, description="One sensor's id")]


class SourceChoice(StrEnum):
    AUTO = "auto"  # raw data for short spans, rollups for long ones
    RAW = "raw"
    ROLLUP_1M = "1m"
    ROLLUP_1H = "1h"


_SOURCES = {
    SourceChoice.RAW: Source.RAW,
    SourceChoice.ROLLUP_1M: Source.ROLLUP_1M,
    SourceChoice.ROLLUP_1H: Source.ROLLUP_1H,
}
_WIDTHS = {Source.ROLLUP_1M: timedelta(minutes=1), Source.ROLLUP_1H: timedelta(hours=1)}


class SeriesFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True)
class Selection:
    """The sensors and the metric a query is about, resolved to storage ids."""

    type_name: str
    metric: str
    metric_id: int
    unit: str
    sensor: str | None
    subdistrict: str | None
    sensor_keys: list[int]


async def select(
    state: GatewayState,
    conn: asyncpg.Connection,
    *,
    sensor: str | None,
    type_name: str | None,
    subdistrict: str | None,
    metric: str | None,
) -> list[Selection]:
    """One Selection per metric (`metric` None: every metric of the type)."""
    if (sensor is None) == (type_name is None):
        raise Invalid("sensor: give either sensor (one sensor) or type (a group)", field="sensor")
    if sensor is not None:
        if subdistrict is not None:
            raise Invalid("subdistrict: only with type, not with sensor", field="subdistrict")
        row = await get_sensor(conn, sensor, state.now())
        if row is None:
            raise NotFound(f"sensor: no sensor {sensor!r}", field="sensor")
        type_name, keys = row["type"], [row["key"]]
    validators, catalog = await state.vocabulary()
    assert type_name is not None
    validator = validators.get(type_name)
    if validator is None:
        raise NotFound(f"type: no sensor type {type_name!r}", field="type")
    metrics = validator.sensor_type.metrics
    if metric is not None and metric not in metrics:
        known = ", ".join(metrics)
        raise Invalid(
            f"metric: {type_name} has no metric {metric!r} (one of {known})", field="metric"
        )
    if sensor is None:
        keys = await sensor_ids(conn, type_name=type_name, subdistrict=subdistrict)
    selections = []
    for name in [metric] if metric is not None else list(metrics):
        metric_id = catalog.metric_id(type_name, name)
        if metric_id is not None:
            unit = metrics[name].unit
            selections.append(
                Selection(type_name, name, metric_id, unit, sensor, subdistrict, keys)
            )
    return selections


def time_range(
    state: GatewayState, start: datetime, end: datetime | None
) -> tuple[datetime, datetime]:
    end = end or state.now()
    if start >= end:
        raise Invalid(
            f"start: {start.isoformat()} is not before end {end.isoformat()}", field="start"
        )
    return start, end


def choose_bucket(raw: str | None, span: timedelta, max_points: int) -> timedelta:
    if raw is None:
        return next((w for w in DEFAULT_WIDTHS if span / w <= DEFAULT_POINTS), DEFAULT_WIDTHS[-1])
    try:
        seconds = parse_duration(raw)
    except ValueError as error:
        raise Invalid(f"bucket: {error}", field="bucket") from None
    if seconds > MAX_BUCKET.total_seconds():  # before timedelta(), which overflows past 10^9 d
        raise Invalid(
            f"bucket: at most {format_duration(MAX_BUCKET.total_seconds())}", field="bucket"
        )
    bucket = timedelta(seconds=seconds)
    if bucket < MIN_BUCKET:
        raise Invalid("bucket: at least 1s", field="bucket")
    points = math.ceil(span / bucket)
    if points > max_points:
        raise Invalid(
            f"bucket: {points:,} buckets of {raw} over the range; at most {max_points:,} "
            "(gateway.max_points): widen the bucket or narrow the range",
            field="bucket",
        )
    return bucket


@router.get(
    "",
    response_model=BucketSeries,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **errors(404)},
)
async def buckets(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    metric: Metric,
    start: Start,
    end: End = None,
    sensor: OneSensor = None,
    type: TypeName = None,
    subdistrict: SubdistrictCode = None,
    bucket: Annotated[
        str | None, Query(max_length=20, description="Width: 1m, 5m, 1h, 1d; default by span")
    ] = None,
    source: SourceChoice = SourceChoice.AUTO,
    format: SeriesFormat = SeriesFormat.JSON,
) -> Response:
    """Count, average, minimum, maximum and (for one sensor) last value per time bucket, for one
    sensor or across a type's sensors (in one subdistrict or the whole district). Short spans
    read raw data, long ones the 1-minute or 1-hour rollups (`source` says which was used).
    Role: viewer."""
    state = get_state(request)
    known_subdistrict(state.geography, subdistrict)
    limits = state.config
    start, end = time_range(state, start, end)
    width = choose_bucket(bucket, end - start, limits.max_points)
    aligned = bucket_start(start, width), bucket_end(end, width)
    chosen = _SOURCES.get(source) or choose_source(*aligned, width)
    if chosen is Source.RAW and source is SourceChoice.RAW:
        _check_raw_span(end - start, limits.max_raw_span)
    if chosen in _WIDTHS and width % _WIDTHS[chosen]:
        raise Invalid(f"bucket: must be a multiple of the {source.value} rollup", field="bucket")
    async with connection(state.pool, "querying readings") as conn:
        selected = await select(
            state,
            conn,
            sensor=sensor,
            type_name=type,
            metric=metric,
            subdistrict=subdistrict,
        )
        if not selected:
            raise NotFound(f"metric: no stored readings of {metric!r}", field="metric")
        one = selected[0]
        found = (
            await range_buckets(
                conn,
                one.sensor_keys,
                one.metric_id,
                start,
                end,
                width,
                chosen,
                with_last=one.sensor is not None,
            )
            if one.sensor_keys
            else []
        )
    if format is SeriesFormat.CSV:
        lines = ["start,samples,avg,min,max,last"]
        lines += [
            f"{b.start.isoformat()},{b.samples},{b.avg!r},{b.min!r},{b.max!r},"
            f"{'' if b.last is None else repr(b.last)}"
            for b in found
        ]
        return Response("\n".join(lines) + "\n", media_type="text/csv")
    # Built as plain data for orjson: thousands of points through pydantic models cost more
    # than the query (BucketSeries documents this shape, and tests hold it to it).
    series = {
        "metric": one.metric,
        "unit": one.unit,
        "type": one.type_name,
        "sensor": one.sensor,
        "subdistrict": one.subdistrict,
        "sensors": len(one.sensor_keys),
        "start": aligned[0],
        "end": aligned[1],
        "bucket": format_duration(width.total_seconds()),
        "source": chosen.value,
        "points": [
            {
                "start": b.start,
                "samples": b.samples,
                "avg": b.avg,
                "min": b.min,
                "max": b.max,
                "last": b.last,
            }
            for b in found
        ],
    }
    return Response(orjson.dumps(series, option=orjson.OPT_UTC_Z), media_type="application/json")


def _check_raw_span(span: timedelta, max_span_s: float) -> None:
    if span.total_seconds() > max_span_s:
        raise Invalid(
            f"start: raw data only over {format_duration(max_span_s)} at most "
            "(gateway.max_raw_span); use buckets or an export for longer ranges",
            field="start",
        )


@router.get("/raw", response_model=Page[RawReading], responses=errors(404))
async def raw(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    sensor: Annotated[str, Query(max_length=64, description="The sensor's id")],
    start: Start,
    end: End = None,
    metric: Annotated[str | None, Query(max_length=64, description="Default: all")] = None,
    limit: Limit = 1_000,
    cursor: Cursor = None,
) -> Page[RawReading]:
    """The readings themselves, by time, one page at a time (range at most
    gateway.max_raw_span). Role: viewer."""
    state = get_state(request)
    start, end = time_range(state, start, end)
    _check_raw_span(end - start, state.config.max_raw_span)
    size = page_size(limit, state.config.max_page)
    after = decode_cursor(cursor, datetime, int)
    if after is not None:
        check_moment(after[0], "cursor")
        if not -(2**15) <= after[1] < 2**15:  # a metric id is a smallint
            raise Invalid("cursor: not a cursor this endpoint returned", field="cursor")
    async with connection(state.pool, "reading raw readings") as conn:
        selected = await select(
            state, conn, sensor=sensor, type_name=None, subdistrict=None, metric=metric
        )
        if not selected:
            return Page[RawReading](items=[])
        rows = await raw_page(
            conn,
            selected[0].sensor_keys[0],
            [s.metric_id for s in selected],
            start,
            end,
            after=(after[0], after[1]) if after else None,
            limit=size + 1,
        )
    items = [RawReading.model_validate(r) for r in rows[:size]]
    more = len(rows) > size
    last = rows[size - 1] if more else None
    return Page[RawReading](
        items=items, next=encode_cursor(last["ts"], last["metric_id"]) if last else None
    )
