"""Sensor types: list, read (JSON or YAML), register or update by posting the YAML file.

Parsing a posted file and writing a type out as YAML run in a worker thread: PyYAML is pure
Python, and a megabyte of it would hold the event loop (and every other request) for seconds.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from gateway.auth import admin, viewer
from gateway.domain_param import DomainCode
from gateway.errors import Conflict, Invalid, NotFound
from gateway.models import MetricSummary, SensorTypeDetail, SensorTypeSaved, SensorTypeSummary
from gateway.openapi import errors, raw_body
from gateway.state import get_state
from schemas.registry import SENSOR_TYPES_DIR, parse_sensor_type
from schemas.sensor_type import SensorType
from storage.api_keys import ApiKey
from storage.pool import connection
from storage.type_specs import SaveOutcome, StoredType, load_stored_types, save_api_type

router = APIRouter(prefix="/v1/sensor-types", tags=["registry"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")
SOURCE = "request body"
_EXAMPLE = (SENSOR_TYPES_DIR / "water_main_pressure.yaml").read_text(encoding="utf-8")


class Format(StrEnum):
    JSON = "json"
    YAML = "yaml"


def summary(stored: StoredType) -> SensorTypeSummary:
    t = stored.sensor_type
    return SensorTypeSummary(
        name=t.name,
        domain=t.domain,
        name_zh=t.display_name.zh,
        name_en=t.display_name.en,
        reporting_interval_s=t.reporting_interval,
        metrics=[
            MetricSummary(
                name=name,
                unit=m.unit,
                kind=m.kind.value,
                name_zh=m.display_name.zh,
                name_en=m.display_name.en,
                states=m.states,
                aliases=m.aliases,
            )
            for name, m in t.metrics.items()
        ],
        origin=stored.origin.value,
        updated_at=stored.updated_at,
    )


@router.get("", response_model=list[SensorTypeSummary], responses=errors())
async def list_types(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    domain: DomainCode = None,
) -> list[SensorTypeSummary]:
    """Every registered sensor type, from files and from the API. Role: viewer."""
    async with connection(get_state(request).pool, "listing sensor types") as conn:
        stored = await load_stored_types(conn)
    return [summary(s) for s in stored.values() if domain is None or s.sensor_type.domain == domain]


@router.get(
    "/{name}",
    response_model=SensorTypeDetail,
    responses={
        200: {"content": {"application/yaml": {"schema": {"type": "object"}}}},
        **errors(404),
    },
)
async def get_type(
    name: str,
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    format: Annotated[Format, Query(description="yaml: the type as a YAML file")] = Format.JSON,
) -> Response:
    """One sensor type: its summary and full specification. Role: viewer."""
    async with connection(get_state(request).pool, "reading a sensor type") as conn:
        stored = (await load_stored_types(conn)).get(name)
    if stored is None:
        raise NotFound(f"name: no sensor type {name!r}", field="name")
    if format is Format.YAML:
        text = await asyncio.to_thread(_as_yaml, stored.sensor_type)
        return Response(text, media_type="application/yaml")
    detail = SensorTypeDetail(**summary(stored).model_dump(), spec=stored.sensor_type)
    return JSONResponse(await asyncio.to_thread(detail.model_dump, mode="json"))


def _as_yaml(sensor_type: SensorType) -> str:
    spec: dict[str, Any] = sensor_type.model_dump(mode="json")
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


@router.post(
    "",
    response_model=SensorTypeSaved,
    status_code=201,
    responses={
        200: {"model": SensorTypeSaved, "description": "An API-registered type was updated"},
        201: {"description": "A new type was registered"},
        **errors(409),
    },
    openapi_extra=raw_body(
        {m: {"schema": {"type": "string"}, "example": _EXAMPLE} for m in YAML_TYPES},
        "One sensor-type YAML file, exactly as it would sit in schemas/sensor_types/",
    ),
)
async def save_type(
    request: Request, response: Response, _: Annotated[ApiKey, Depends(admin)]
) -> SensorTypeSaved:
    """Register a sensor type, or update one registered over the API, by posting its YAML.

    Validated exactly like the files on disk (every problem named by key; 422). Stored in the
    database and picked up by running ingest services within seconds, without a restart. A type
    defined by a file cannot be changed here (409): edit its file instead, since the file would
    win at the next start. Role: admin."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"body: not UTF-8 (byte {error.start})", field="body") from None
    state = get_state(request)
    await state.resolver.check_types_when_due(state.now())
    # RegistryError -> 422 naming each key (a domain must be one stored at prepare)
    sensor_type = await asyncio.to_thread(parse_sensor_type, text, SOURCE, state.resolver.domains)
    async with connection(state.pool, "saving a sensor type") as conn:
        outcome = await save_api_type(conn, sensor_type)
    if outcome is SaveOutcome.FILE_OWNED:
        raise Conflict(
            f"name: sensor type {sensor_type.name!r} is defined by a file in the registry "
            "folder; change that file (a restart would put the file's version back)",
            field="name",
        )
    await state.resolver.check_types(state.now(), force=True)
    response.status_code = 201 if outcome is SaveOutcome.CREATED else 200
    return SensorTypeSaved(name=sensor_type.name, outcome=outcome.value)
