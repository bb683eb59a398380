"""/healthz (the process runs), /readyz (database and broker reachable), /metrics."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.auth import viewer
from gateway.models import Health, Readiness
from gateway.openapi import errors
from gateway.state import get_state
from ingest.transport import MqttClient, MqttError
from storage.api_keys import ApiKey

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_S = 3.0


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up and serving. No key needed."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database or the broker is down"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and the MQTT broker accepts a connection. No key
    needed; 503 (with what failed) while either is unreachable."""
    state = get_state(request)
    broker_check = _broker(state.config.mqtt_url, state.config.mqtt_ca_file)
    database, broker = await asyncio.gather(_database(request), broker_check)
    ready = database == "ok" and broker == "ok"
    body = Readiness(status="ready" if ready else "not_ready", database=database, broker=broker)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _database(request: Request) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await get_state(request).pool.fetchval("SELECT 1")
    except Exception as error:  # any failure means not ready; say which
        return f"unreachable: {error.__class__.__name__}"
    return "ok"


async def _broker(url: str, ca_file: Path | None) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            client = await MqttClient.connect(
                url,
                f"cityvitals-gateway-ready-{uuid.uuid4().hex[:8]}",
                on_publish=lambda _: None,
                clean_start=True,
                session_expiry=0,
                ca_file=ca_file,
            )
            await client.disconnect()
    except (MqttError, OSError, TimeoutError) as error:
        return f"unreachable: {error}"
    return "ok"


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **errors(),
    },
)
async def metrics(request: Request, _: Annotated[ApiKey, Depends(viewer)]) -> Response:
    """Prometheus metrics of this gateway process. Role: viewer."""
    registry = get_state(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
