"""/healthz (alive and not wedged), /readyz (database and broker reachable), /metrics.

The two probes answer different questions, so an orchestrator acts on each differently:
/healthz failing means "restart me" and /readyz failing "send me no traffic for now". A
database or broker outage is therefore /readyz's alone (a restart would not bring them back,
and restarting every gateway at once during an outage only adds to it), while /healthz fails
only when this process is stuck in a way a restart cures: every pooled database connection is
held and none comes back within HEALTH_WAIT_S. It asks the database nothing while a connection
is idle, so it answers while the database is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.auth import viewer
from gateway.models import Health, Readiness
from gateway.openapi import errors
from gateway.state import get_state
from ingest.transport import MqttClient, MqttError
from storage.api_keys import ApiKey
from storage.errors import PoolExhausted
from storage.pool import connection

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_S = 3.0
# Inside the 1 s a liveness probe waits by default (Kubernetes' timeoutSeconds).
HEALTH_WAIT_S = 0.5


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Wedged: restart this process"}},
)
async def healthz(request: Request) -> JSONResponse:
    """Alive: the process serves and is not wedged. 200 while the database or the broker is
    down (that is /readyz); 503 when every pooled database connection is held and none comes
    back within half a second, which restarting the process cures. No key needed."""
    state = get_state(request)
    pool = state.pool
    if pool.get_idle_size() > 0 or await _handed_back(pool):
        history = _history(state.config.history_state_path)
        return JSONResponse(Health(status="ok", history=history).model_dump(exclude_none=True))
    in_use = pool.get_size() - pool.get_idle_size()
    detail = (
        f"no pooled database connection came free within {HEALTH_WAIT_S:g} s "
        f"({in_use} of {pool.get_max_size()} held)"
    )
    return JSONResponse(Health(status="wedged", detail=detail).model_dump(), status_code=503)


def _history(path: Path | None) -> str | None:
    """The demo's backfill state, or None (not a demo, or a file not written yet or unreadable:
    health does not depend on it). A read of a few bytes the demo replaces whole (a rename)."""
    if path is None:
        return None
    try:
        state = json.loads(path.read_bytes()).get("state")
    except (OSError, ValueError, AttributeError):
        return None
    return state if state in ("filling", "done") else None


async def _handed_back(pool: asyncpg.Pool) -> bool:
    """Whether a pooled connection comes free within HEALTH_WAIT_S. Only a wait that runs out
    counts against the process: a connection that cannot be opened is the database's trouble."""
    try:
        conn = await pool.acquire(timeout=HEALTH_WAIT_S)
    except TimeoutError:
        return False
    except Exception:  # refused or lost: /readyz reports the database
        return True
    # asyncpg terminates a connection it cannot reset: either way the pool has it back.
    with contextlib.suppress(Exception):
        await pool.release(conn)
    return True


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
    database, broker = await asyncio.gather(_database(state.pool), broker_check)
    ready = database == "ok" and broker == "ok"
    body = Readiness(status="ready" if ready else "not_ready", database=database, broker=broker)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _database(pool: asyncpg.Pool) -> str:
    try:
        async with (
            asyncio.timeout(CHECK_TIMEOUT_S),
            connection(pool, "checking readiness", CHECK_TIMEOUT_S) as conn,
        ):
            await conn.fetchval("SELECT 1")
    except PoolExhausted:
        return "busy: every pooled connection stayed in use"
    except Exception as error:  # any failure means not ready; say which
        return f"unreachable: {(error.__cause__ or error).__class__.__name__}"
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
