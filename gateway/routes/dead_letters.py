"""Dead letters: inspect what was set aside, and replay it once the cause is fixed."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway.auth import admin, operator
from gateway.errors import NotFound
from gateway.models import DeadLetterOut, Page, ReplayFailure, ReplayRequest, ReplayResult
from gateway.openapi import errors
from gateway.pagination import decode_cursor, encode_cursor, page_size
from gateway.params import Cursor, Limit, Since, Until
from gateway.state import get_state
from ingest.replay import replay_dead_letters
from storage.api_dead_letters import get_dead_letter, list_dead_letters, select_for_replay
from storage.api_keys import ApiKey
from storage.pool import connection

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])


def letter_out(row: dict[str, Any]) -> DeadLetterOut:
    payload = bytes(row["payload"])
    try:
        text, encoded = payload.decode("utf-8"), None
    except UnicodeDecodeError:
        text, encoded = None, base64.b64encode(payload).decode()
    fields = ("id", "received_at", "source", "topic", "reason", "field", "detail", "replayed_at")
    return DeadLetterOut(
        **{k: row[k] for k in fields},
        size=len(payload),
        payload_text=text,
        payload_base64=encoded,
    )


@router.get("", response_model=Page[DeadLetterOut], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(operator)],
    reason: Annotated[str | None, Query(max_length=64, description="e.g. unknown_type")] = None,
    source: Annotated[str | None, Query(max_length=16, description="mqtt or http")] = None,
    replayed: Annotated[bool | None, Query(description="Only replayed, or not replayed")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[DeadLetterOut]:
    """Payloads that could not be stored, newest first, with their raw bytes and reason.
    Role: operator."""
    state = get_state(request)
    size = page_size(limit, state.config.max_page)
    before = decode_cursor(cursor, int)
    async with connection(state.pool, "listing dead letters") as conn:
        rows = await list_dead_letters(
            conn,
            reason=reason,
            source=source,
            replayed=replayed,
            since=since,
            until=until,
            before_id=before[0] if before else None,
            limit=size + 1,
        )
    items = [letter_out(r) for r in rows[:size]]
    return Page[DeadLetterOut](
        items=items, next=encode_cursor(items[-1].id) if len(rows) > size else None
    )


@router.get("/{letter_id}", response_model=DeadLetterOut, responses=errors(404))
async def one(
    letter_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    request: Request,
    _: Annotated[ApiKey, Depends(operator)],
) -> DeadLetterOut:
    """One dead letter. Role: operator."""
    async with connection(get_state(request).pool, "reading a dead letter") as conn:
        row = await get_dead_letter(conn, letter_id)
    if row is None:
        raise NotFound(f"letter_id: no dead letter {letter_id}", field="letter_id")
    return letter_out(row)


@router.post("/replay", response_model=ReplayResult, responses=errors())
async def replay(
    body: ReplayRequest, request: Request, _: Annotated[ApiKey, Depends(admin)]
) -> ReplayResult:
    """Send dead letters not replayed yet (the given `ids`, or those matching the filters,
    oldest first, at most `limit`) through validation and storage again: those that now pass
    are stored and marked replayed; the others stay, with the reason they still fail. Role:
    admin."""
    state = get_state(request)
    async with connection(state.pool, "selecting dead letters") as conn:
        letters = await select_for_replay(
            conn,
            ids=body.ids,
            reason=body.reason,
            source=body.source,
            since=body.since,
            until=body.until,
            limit=body.limit,
        )
    outcome = await replay_dead_letters(state.resolver, state.writer, letters, state.now())
    return ReplayResult(
        selected=len(letters),
        replayed=len(outcome.replayed),
        stored=outcome.stored,
        duplicates=outcome.duplicates,
        failed=[
            ReplayFailure(id=i, reason=d.reason, field=d.field, detail=d.detail)
            for i, d in outcome.failed
        ],
    )
