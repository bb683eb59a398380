"""Silences: matchers and a time window; silenced alerts change state but notify nobody."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from alerts import store
from alerts.engine.ops import SilenceRequest, create_silence
from alerts.errors import SilenceError
from alerts.notify.silences import Silence
from gateway.auth import operator, viewer
from gateway.errors import NotFound
from gateway.models_city import SilenceIn, SilenceOut
from gateway.openapi import errors
from gateway.pagination import page_size
from gateway.params import Limit
from gateway.state import get_state
from storage.api_keys import ApiKey
from storage.pool import connection

router = APIRouter(prefix="/v1/silences", tags=["alerts"])


def _out(silence: Silence, now: datetime) -> SilenceOut:
    return SilenceOut(
        id=silence.id,
        matchers=[f"{m.name}{m.op.value}{m.value}" for m in silence.matchers],
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
        created_by=silence.created_by,
        comment=silence.comment,
        active=silence.active_at(now),
    )


@router.get("", response_model=list[SilenceOut], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    include_expired: Annotated[bool, Query(description="Also silences that ended")] = False,
    limit: Limit = 100,
) -> list[SilenceOut]:
    """Silences in force or to come (with `include_expired`, past ones too). Role: viewer."""
    state = get_state(request)
    now = state.now()
    size = page_size(limit, state.config.max_page)
    async with connection(state.pool, "listing silences") as conn:
        silences = await store.list_silences(conn, now, include_expired=include_expired, limit=size)
    return [_out(s, now) for s in silences]


@router.post("", response_model=SilenceOut, status_code=201, responses=errors())
async def create(
    body: SilenceIn, request: Request, key: Annotated[ApiKey, Depends(operator)]
) -> SilenceOut:
    """Silence the alerts whose labels match (rule_id, type, metric, subdistrict, sensor,
    grade, domain) from `starts_at` (default now) to `ends_at`. Role: operator."""
    state = get_state(request)
    now = state.now()
    request_ = SilenceRequest(
        matchers=body.matchers,
        starts_at=body.starts_at or now,
        ends_at=body.ends_at,
        created_by=key.name,
        comment=body.comment,
    )
    async with connection(state.pool, "creating a silence") as conn:
        silence = await create_silence(conn, request_)
    return _out(silence, now)


@router.delete("/{silence_id}", response_model=SilenceOut, responses=errors(404))
async def expire(
    silence_id: Annotated[str, Path(max_length=64)],
    request: Request,
    _: Annotated[ApiKey, Depends(operator)],
) -> SilenceOut:
    """End a silence now (it stays on record). Role: operator."""
    state = get_state(request)
    now = state.now()
    async with connection(state.pool, "expiring a silence") as conn:
        try:
            silence = await store.expire_silence(conn, silence_id, now)
        except SilenceError as error:  # the only one: no such silence in force
            raise NotFound(f"silence_id: {error}", field="silence_id") from None
    return _out(silence, now)
