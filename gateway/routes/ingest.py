"""HTTP ingest for devices that push over HTTP (many NB-IoT platforms do).

The URL mirrors the MQTT topic and the body is the MQTT payload, and both go through the very
same path as MQTT (`ingest.resolve`, then `storage.writer`): decode, validate against the
registry, dead-letter what is wrong with its raw bytes and a reason, commit. The answer is sent
only after the commit, so a 2xx means the readings are in the database; a retried post stores
nothing twice. A key bound to sensors (`gateway.scopes`) is refused with 403 for any other
sensor before anything is stored, dead letters included.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from gateway.auth import ingest
from gateway.errors import Invalid, ProblemDetail
from gateway.models import IngestResult, Problem
from gateway.openapi import errors, raw_body
from gateway.scopes import ensure_in_scope
from gateway.state import get_state
from ingest.config import Limits
from ingest.resolve import Inbound
from schemas.payload_schema import status_json_schema, telemetry_json_schema
from schemas.status import STATES
from storage.api_keys import ApiKey

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])

_BODY = raw_body(
    {
        "application/json": {
            "schema": {
                "oneOf": [
                    telemetry_json_schema(Limits().max_reports),
                    {"type": "object", "description": "kind status", **status_json_schema()},
                ]
            },
            "example": {
                "ts": "2026-11-25T08:00:00+08:00",
                "seq": 17,
                "metrics": {"pressure": 0.31},
            },
        },
        "text/plain": {
            "schema": {"type": "string", "enum": sorted(STATES)},
            "example": "offline",
        },
    },
    "kind telemetry: one report, or an array of reports; kind status: the state. The same "
    "payloads as over MQTT",
)


@router.post(
    "/{domain}/{subdistrict}/{sensor_id}/{kind}",
    response_model=IngestResult,
    responses=errors(),
    openapi_extra=_BODY,
)
async def post_readings(
    domain: str,
    subdistrict: str,
    sensor_id: str,
    kind: str,
    request: Request,
    key: Annotated[ApiKey, Depends(ingest)],
) -> IngestResult:
    """Post a sensor's readings (`kind` telemetry) or its online state (`kind` status: the
    body is `online`, `offline` or `{"state": "online", "ts": ...}`), exactly as it would
    publish them on `city/v1/{domain}/{subdistrict}/{sensor_id}/{kind}`.

    200: committed (the good metrics are stored even when some are refused; `rejected` lists
    those). 422: nothing could be stored; the payload is kept in the dead letters with the
    reason. 403: the key is bound to other sensors (nothing is stored). Role: ingest (or
    admin)."""
    state = get_state(request)
    settled = ensure_in_scope(key, domain, subdistrict, sensor_id, state.resolver)
    payload = await request.body()
    now = state.now()
    topic = f"city/v1/{domain}/{subdistrict}/{sensor_id}/{kind}"
    message = Inbound(topic.encode(), payload, 0, 0, now)
    resolved = await state.resolver.resolve([message], now)
    if not settled:  # the sensor was unknown: the resolve may have found it registered since
        ensure_in_scope(key, domain, subdistrict, sensor_id, state.resolver)
    # Returns after the commit. A device that posts again after a lost answer is a new
    # delivery as far as we can tell: its readings are stored once, a refused payload counts
    # as a repeat of its dead letter.
    result = await state.writer.write(resolved.rows, resolved.dead_letters, resolved.status_changes)
    metrics = state.metrics
    metrics.stored.inc(result.inserted)
    metrics.duplicates.inc(result.duplicates)
    rejected = [ProblemDetail(d.field, d.reason, d.detail) for d in resolved.dead_letters]
    for letter in resolved.dead_letters:
        metrics.dead_letters.labels(letter.reason).inc()
    if rejected and not resolved.rows and not resolved.status_changes:
        first = rejected[0]
        raise Invalid(first.detail, field=first.field, code=first.reason, problems=rejected)
    return IngestResult(
        stored=result.inserted,
        duplicates=result.duplicates,
        status_changes=len(resolved.status_changes),
        rejected=[Problem(field=r.field, reason=r.reason, detail=r.detail) for r in rejected],
    )
