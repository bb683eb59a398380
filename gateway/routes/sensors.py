"""Sensors: list and filter, one sensor with its latest values and status history, register."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from gateway.auth import admin, viewer
from gateway.domain_param import DomainCode
from gateway.errors import Invalid, NotFound
from gateway.models import LatestValue, Page, Sensor, SensorDetail, SensorRegistration, SensorSaved
from gateway.openapi import errors
from gateway.pagination import decode_cursor, encode_cursor, page_size
from gateway.params import Cursor, Limit, SubdistrictCode, TypeName, known_subdistrict
from gateway.state import get_state
from schemas.inventory import SENSOR_ID_PATTERN
from schemas.placement import place
from schemas.sensor_type import Metric
from storage.api_keys import ApiKey
from storage.api_sensors import get_sensor, list_sensors, status_history, upsert_api_sensor
from storage.pool import connection
from storage.queries import latest_values

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/sensors", tags=["sensors"])
LATEST_LOOKBACK = timedelta(days=7)
SensorId = Annotated[str, Path(description="The id the device uses", max_length=64)]


class OnlineState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # no status and no reading in the last week (storage/online.py)


@router.get("", response_model=Page[Sensor], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    domain: DomainCode = None,
    subdistrict: SubdistrictCode = None,
    type: TypeName = None,
    status: Annotated[OnlineState | None, Query(description="Online state")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[Sensor]:
    """Sensors by id, filtered by domain, subdistrict, type and online state. Role: viewer."""
    state = get_state(request)
    known_subdistrict(state.geography, subdistrict)
    size = page_size(limit, state.config.max_page)
    after = decode_cursor(cursor, str)
    async with connection(state.pool, "listing sensors") as conn:
        rows = await list_sensors(
            conn,
            state.now(),
            domain=domain,
            subdistrict=subdistrict,
            type_name=type,
            status=status.value if status else None,
            after=after[0] if after else None,
            limit=size + 1,
        )
    items = [Sensor.model_validate(r) for r in rows[:size]]
    return Page[Sensor](items=items, next=encode_cursor(items[-1].id) if len(rows) > size else None)


@router.get("/{sensor_id}", response_model=SensorDetail, responses=errors(404))
async def one(
    sensor_id: SensorId,
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    history: Annotated[int, Query(ge=0, le=1_000, description="Status changes to show")] = 20,
) -> SensorDetail:
    """One sensor, the newest value of each of its metrics (last 7 days) and its recent
    online/offline changes. Role: viewer."""
    state = get_state(request)
    async with connection(state.pool, "reading a sensor") as conn:
        row = await get_sensor(conn, sensor_id, state.now())
        if row is None:
            raise NotFound(f"sensor_id: no sensor {sensor_id!r}", field="sensor_id")
        latest = await latest_values(conn, [row["key"]], state.now(), LATEST_LOOKBACK)
        changes = await status_history(conn, row["key"], history) if history else []
    validator = state.resolver.validators.get(row["type"])
    metrics = validator.sensor_type.metrics if validator is not None else {}
    return SensorDetail(
        **Sensor.model_validate(row).model_dump(),
        latest=[
            LatestValue(
                metric=v.metric,
                unit=v.unit,
                ts=v.ts,
                value=v.value,
                state=_state_label(metrics.get(v.metric), v.value),
            )
            for v in latest
        ],
        status_history=changes,
    )


def _state_label(metric: Metric | None, value: float) -> str | None:
    """The declared label of an enumerated state's stored index (None for other metrics)."""
    if metric is None or metric.states is None:
        return None
    index = round(value)
    return metric.states[index] if 0 <= index < len(metric.states) else None


@router.put(
    "/{sensor_id}",
    response_model=SensorSaved,
    status_code=201,
    responses={200: {"model": SensorSaved, "description": "Updated"}, **errors()},
)
async def register(
    sensor_id: SensorId,
    body: SensorRegistration,
    request: Request,
    response: Response,
    _: Annotated[ApiKey, Depends(admin)],
) -> SensorSaved:
    """Register a sensor (or move or retype one): its readings are accepted from then on, over
    MQTT and HTTP, with the dead_letter policy too. Role: admin."""
    if not re.fullmatch(SENSOR_ID_PATTERN, sensor_id):
        raise Invalid(
            f"sensor_id: {sensor_id!r} does not match {SENSOR_ID_PATTERN}", field="sensor_id"
        )
    state = get_state(request)
    validators, _catalog = await state.vocabulary()
    if body.type not in validators:
        raise Invalid(f"type: unknown sensor type {body.type!r}", field="type")
    if (body.lat is None) != (body.lon is None):
        missing = "lon" if body.lon is None else "lat"
        raise Invalid(f"{missing}: coordinates need both lat and lon", field=missing)
    placement = place(state.geography, sensor_id, body.subdistrict, body.lat, body.lon)
    if placement.subdistrict is None:
        field = placement.field or "subdistrict"
        raise Invalid(f"{field}: {placement.problem}", field=field)
    if placement.warning is not None:
        log.warning("registering a sensor: %s", placement.warning)
    async with connection(state.pool, "registering a sensor") as conn:
        created = await upsert_api_sensor(
            conn,
            sensor_id,
            body.type,
            placement.subdistrict,
            lat=body.lat,
            lon=body.lon,
            name=body.name,
        )
    if created is None:
        raise Invalid(
            f"type: sensor type {body.type!r} or subdistrict {placement.subdistrict!r} "
            "is not stored",
            field="type",
        )
    await state.resolver.reload_catalog(state.now())
    response.status_code = 201 if created else 200
    return SensorSaved(
        id=sensor_id,
        outcome="created" if created else "updated",
        subdistrict=placement.subdistrict,
        warning=placement.warning,
    )
