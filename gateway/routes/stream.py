"""The live stream: Server-Sent Events of vital signs and alert transitions."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from gateway.auth import viewer
from gateway.domain_param import DomainCode
from gateway.errors import Invalid
from gateway.openapi import errors
from gateway.params import known_subdistrict
from gateway.state import get_state
from gateway.stream import Event, Subscriber, sse, vital_sign_events
from gateway.streaming import HoldingStream
from storage.api_keys import ApiKey

router = APIRouter(prefix="/v1/stream", tags=["stream"])
_EXAMPLE = (
    "retry: 3000\n: connected\n\n"
    'event: vital_signs\ndata: {"at": "2026-11-25T08:00:00Z", "domain": "water", ...}\n\n'
    'id: 42\nevent: alert\ndata: {"id": 42, "kind": "firing", "grade": "orange", ...}\n\n'
)
# ASCII digits only (str.isdigit also takes '²', which int() refuses), and at most 18 of them:
# an id always fits the audit trail's bigint.
EVENT_ID = re.compile(r"[0-9]{1,18}")


class EventKind(StrEnum):
    VITAL_SIGNS = "vital_signs"
    ALERTS = "alerts"


@router.get(
    "",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless event stream",
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        **errors(429),
    },
)
async def stream(
    request: Request,
    key: Annotated[ApiKey, Depends(viewer)],
    events: Annotated[list[EventKind] | None, Query(description="Default: both")] = None,
    domain: DomainCode = None,
    subdistrict: Annotated[
        str | None, Query(max_length=64, description="Alert events of this subdistrict only")
    ] = None,
    last_event_id: Annotated[
        str | None, Header(max_length=20, description="Resume after this alert event")
    ] = None,
) -> StreamingResponse:
    """`vital_signs` events (one per domain, at once and every
    gateway.stream_vital_signs_every) and `alert` events (every transition of every alert,
    within gateway.stream_alerts_every; `id` is the audit line's id). Reconnect with
    Last-Event-ID to get the alert events missed meanwhile. Role: viewer."""
    if last_event_id is not None and not EVENT_ID.fullmatch(last_event_id):
        raise Invalid("Last-Event-ID: expected the id of an alert event", field="Last-Event-ID")
    state = get_state(request)
    known_subdistrict(state.geography, subdistrict)
    kinds = {k.value for k in events or list(EventKind)}
    subscriber = Subscriber(
        key.id,
        frozenset({"alert" if k == "alerts" else k for k in kinds}),
        domain,
        subdistrict,
    )
    await state.hub.subscribe(subscriber, max_per_key=state.config.max_streams_per_key)
    try:
        first: list[Event] = []
        if EventKind.VITAL_SIGNS.value in kinds:
            signs = await state.vital_signs.current(subscriber.domain)
            first += vital_sign_events(signs)
        if last_event_id is not None and EventKind.ALERTS.value in kinds:
            first += await state.hub.replay(int(last_event_id), subscriber)
    except BaseException:
        state.hub.unsubscribe(subscriber)
        raise

    async def release() -> None:
        state.hub.unsubscribe(subscriber)

    return HoldingStream(
        sse(subscriber, first, state.config.stream_keepalive),
        release,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        what="live stream",
    )
