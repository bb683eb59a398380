"""Streamed exports of raw readings: CSV, NDJSON or a JSON array, however long the range.

Rows come from a server-side cursor a chunk at a time, so memory stays flat; at most
gateway.max_exports run at once (each holds a database connection), the rest get 429. Everything
that can be refused is refused before the first byte (the range is checked where it enters, see
gateway.params); an export that fails midway, loses its client or runs past
gateway.max_export_duration still gives its slot and connection back (gateway.streaming).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from gateway.auth import viewer
from gateway.errors import Invalid, NotFound, TooBusy
from gateway.models import T0, example
from gateway.openapi import errors
from gateway.params import End, Start, SubdistrictCode, TypeName, known_subdistrict
from gateway.routes.readings import OneSensor, select, time_range
from gateway.state import get_state
from gateway.streaming import HoldingStream
from schemas.durations import format_duration
from storage.api_keys import ApiKey
from storage.api_readings import export_chunks
from storage.pool import acquire

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/readings", tags=["readings"])


class ExportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"
    JSON = "json"


_MEDIA = {
    ExportFormat.CSV: "text/csv",
    ExportFormat.NDJSON: "application/x-ndjson",
    ExportFormat.JSON: "application/json",
}


class ExportRow(BaseModel):
    model_config = example({"ts": T0, "sensor": "yp-wp-0001", "metric": "pressure", "value": 0.31})

    ts: str
    sensor: str
    metric: str
    value: float


def _encode(fmt: ExportFormat, rows: list[asyncpg.Record], first: bool) -> bytes:
    if fmt is ExportFormat.CSV:
        return "".join(
            f"{r['ts'].isoformat()},{r['sensor']},{r['metric']},{r['value']!r}\n" for r in rows
        ).encode()
    items = [
        orjson.dumps(
            {"ts": r["ts"], "sensor": r["sensor"], "metric": r["metric"], "value": r["value"]}
        )
        for r in rows
    ]
    if fmt is ExportFormat.NDJSON:
        return b"\n".join(items) + b"\n"
    return (b"" if first else b",") + b",".join(items)


async def _body(
    conn: asyncpg.Connection,
    fmt: ExportFormat,
    keys: list[int],
    metric_ids: list[int],
    start: datetime,
    end: datetime,
) -> AsyncGenerator[bytes, None]:
    if fmt is ExportFormat.CSV:
        yield b"ts,sensor,metric,value\n"
    elif fmt is ExportFormat.JSON:
        yield b"["
    first = True
    async for rows in export_chunks(conn, keys, metric_ids, start, end):
        yield _encode(fmt, rows, first)
        first = False
    if fmt is ExportFormat.JSON:
        yield b"]"


_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "array", "items": ExportRow.model_json_schema()}},
}


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"description": "The rows, streamed", "content": _CONTENT}, **errors(404, 429)},
)
async def export(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    start: Start,
    end: End = None,
    sensor: OneSensor = None,
    type: TypeName = None,
    subdistrict: SubdistrictCode = None,
    metric: Annotated[str | None, Query(max_length=64, description="Default: all")] = None,
    format: ExportFormat = ExportFormat.CSV,
) -> StreamingResponse:
    """Every raw reading of one sensor, or of a type's sensors (in one subdistrict), in
    [start, end), by sensor, metric and time; streamed (range at most
    gateway.max_export_span; an export still running after gateway.max_export_duration is cut
    off, and the body ends incomplete). Role: viewer."""
    state = get_state(request)
    known_subdistrict(state.geography, subdistrict)
    limits = state.config
    start, end = time_range(state, start, end)
    if (end - start).total_seconds() > limits.max_export_span:
        span = format_duration(limits.max_export_span)
        raise Invalid(
            f"start: exports span at most {span} (gateway.max_export_span)", field="start"
        )
    if state.exports.locked():
        raise TooBusy(f"{limits.max_exports} exports are running (gateway.max_exports)")
    await state.exports.acquire()  # free (just checked): taken at once, no other task between
    try:
        conn = await acquire(state.pool, "starting an export")
    except BaseException:
        state.exports.release()
        raise

    async def release() -> None:
        try:
            # Cut off midway (its client gone, its time up), the export's transaction is still
            # open: the connection is terminated rather than reset, as storage.pool does with
            # a cancelled one. A connection the server lost is back in the pool already.
            with contextlib.suppress(asyncpg.exceptions.InterfaceError):
                if conn.is_in_transaction():
                    conn.terminate()
            await state.pool.release(conn)
        except Exception as error:  # asyncpg terminates a connection it cannot reset
            log.warning("an export's database connection could not be reset: %r", error)
        finally:
            state.exports.release()

    try:
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
    except BaseException:
        await release()
        raise
    metric_ids = [s.metric_id for s in selected]
    name = f"readings-{sensor or type}-{start:%Y%m%dT%H%M}.{format.value}"
    return HoldingStream(
        _body(conn, format, selected[0].sensor_keys, metric_ids, start, end),
        release,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
        max_duration_s=limits.max_export_duration,
        what=f"export {name}",
    )
