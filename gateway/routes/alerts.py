"""Alerts: list and filter, one alert with its audit trail, the closed loop, the audit trail.

Actions (acknowledge, assign, note, close) are `alerts.ops`: the state machine decides what is
allowed (409 when not), and the key's name is recorded as the actor.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request

from alerts import store
from alerts.engine import ops
from alerts.model import Alert, Grade, OpsState, Phase, closed_while_firing
from alerts.rules.rule import SubjectKind
from gateway.auth import operator, viewer
from gateway.domain_param import DomainCode
from gateway.errors import NotFound
from gateway.models import Page
from gateway.models_city import (
    Acknowledge,
    AlertDetail,
    AlertOut,
    AlertSubject,
    Assign,
    Close,
    Note,
    StateName,
    TransitionOut,
)
from gateway.openapi import errors
from gateway.pagination import decode_cursor, encode_cursor, page_size
from gateway.params import Cursor, Limit, Since, SubdistrictCode, Until, known_subdistrict
from gateway.state import get_state
from schemas.states import state_label, state_names
from schemas.type_validator import TypeValidator
from storage.api_keys import ApiKey
from storage.pool import connection

router = APIRouter(tags=["alerts"])
Fingerprint = Annotated[str, Path(max_length=64, description="The alert's fingerprint")]
DETAIL_TRANSITIONS = 100
_DERIVED = ("subject", "labels", "state", "closed_while_firing")  # not columns of `alerts`


def alert_out(row: dict[str, Any], types: Mapping[str, TypeValidator]) -> AlertOut:
    raw = row["labels"]
    labels = json.loads(raw) if isinstance(raw, str) else dict(raw)
    return AlertOut(
        **{k: row[k] for k in AlertOut.model_fields if k not in _DERIVED},
        subject=AlertSubject(
            kind=row["subject_kind"],
            id=row["subject_id"],
            domain=row["domain"],
            subdistrict=row["subdistrict"],
        ),
        state=_state(labels, row["value"], types),
        closed_while_firing=closed_while_firing(row["phase"], row["ops"]),
        labels=labels,
    )


def _state(
    labels: Mapping[str, str], value: float | None, types: Mapping[str, TypeValidator]
) -> StateName | None:
    """The named state of a sensor alert on an enumerated state metric; None otherwise (rates
    and aggregates of a state are numbers, and their alerts carry no sensor label)."""
    validator = types.get(labels.get("type", ""))
    if validator is None or "sensor" not in labels or "metric" not in labels:
        return None
    metric = validator.sensor_type.metrics.get(labels["metric"])
    if metric is None or not metric.states:
        return None
    named = state_label(state_names(metric), value)
    if named is None or value is None:
        return None
    return StateName(label=metric.states[int(value)], zh=named[0], en=named[1])


def _values(items: list[Any] | None) -> list[str] | None:
    return [i.value for i in items] if items else None


@router.get("/v1/alerts", response_model=Page[AlertOut], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    phase: Annotated[list[Phase] | None, Query(description="Any of these phases")] = None,
    grade: Annotated[list[Grade] | None, Query(description="Any of these grades")] = None,
    ops_state: Annotated[
        list[OpsState] | None, Query(alias="ops", description="Any of these ops states")
    ] = None,
    domain: DomainCode = None,
    subdistrict: SubdistrictCode = None,
    rule_id: Annotated[str | None, Query(max_length=200)] = None,
    subject_kind: SubjectKind | None = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    closed_while_firing: Annotated[
        bool | None,
        Query(description="Only alerts closed while they still fire (true), or none (false)"),
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AlertOut]:
    """Alerts, most recently changed first. `phase=firing&ops=open` is what the duty officer
    has not picked up yet; `phase=pending&phase=firing` is the duty list, closed-while-firing
    ones included (marked `closed_while_firing`). Role: viewer."""
    state = get_state(request)
    known_subdistrict(state.geography, subdistrict)
    size = page_size(limit, state.config.max_page)
    before = decode_cursor(cursor, datetime, str)
    async with connection(state.pool, "listing alerts") as conn:
        rows = await store.list_alerts(
            conn,
            phases=_values(phase),
            grades=_values(grade),
            ops=_values(ops_state),
            domain=domain,
            subdistrict=subdistrict,
            rule_id=rule_id,
            subject_kind=subject_kind.value if subject_kind else None,
            subject_id=subject_id,
            before=(before[0], before[1]) if before else None,
            limit=size + 1,
            closed_while_firing=closed_while_firing,
        )
    types = (await get_state(request).vocabulary())[0]
    items = [alert_out(r, types) for r in rows[:size]]
    last = items[-1] if len(rows) > size else None
    return Page[AlertOut](
        items=items, next=encode_cursor(last.updated_at, last.fingerprint) if last else None
    )


@router.get("/v1/alerts/{fingerprint}", response_model=AlertDetail, responses=errors(404))
async def one(
    fingerprint: Fingerprint, request: Request, _: Annotated[ApiKey, Depends(viewer)]
) -> AlertDetail:
    """One alert and the newest 100 lines of its audit trail. Role: viewer."""
    async with connection(get_state(request).pool, "reading an alert") as conn:
        row = await store.get_alert(conn, fingerprint)
        if row is None:
            raise NotFound(f"fingerprint: no alert {fingerprint!r}", field="fingerprint")
        lines = await store.list_transitions(
            conn, fingerprint=fingerprint, limit=DETAIL_TRANSITIONS
        )
    types = (await get_state(request).vocabulary())[0]
    return AlertDetail(
        **alert_out(row, types).model_dump(),
        transitions=[TransitionOut.model_validate(t) for t in lines],
    )


Act = Callable[[asyncpg.Connection, str, datetime], Awaitable[Alert]]


async def _act(request: Request, fingerprint: str, action: Act) -> AlertOut:
    state = get_state(request)
    async with connection(state.pool, "acting on an alert") as conn:
        await action(conn, fingerprint, state.now())
        row = await store.get_alert(conn, fingerprint)
    assert row is not None
    types = (await state.vocabulary())[0]
    return alert_out(row, types)


ACTION_ERRORS = errors(404, 409)


@router.post(
    "/v1/alerts/{fingerprint}/acknowledge", response_model=AlertOut, responses=ACTION_ERRORS
)
async def acknowledge(
    fingerprint: Fingerprint,
    body: Acknowledge,
    request: Request,
    key: Annotated[ApiKey, Depends(operator)],
) -> AlertOut:
    """Acknowledge a pending or firing alert: escalation stops. Role: operator."""
    return await _act(
        request, fingerprint, lambda c, fp, now: ops.acknowledge(c, fp, key.name, body.note, now)
    )


@router.post("/v1/alerts/{fingerprint}/assign", response_model=AlertOut, responses=ACTION_ERRORS)
async def assign(
    fingerprint: Fingerprint,
    body: Assign,
    request: Request,
    key: Annotated[ApiKey, Depends(operator)],
) -> AlertOut:
    """Dispatch an alert to a crew or a person. Role: operator."""
    return await _act(
        request, fingerprint, lambda c, fp, now: ops.assign(c, fp, body.to, key.name, now)
    )


@router.post("/v1/alerts/{fingerprint}/notes", response_model=AlertOut, responses=ACTION_ERRORS)
async def add_note(
    fingerprint: Fingerprint,
    body: Note,
    request: Request,
    key: Annotated[ApiKey, Depends(operator)],
) -> AlertOut:
    """Add a note to an alert's audit trail. Role: operator."""
    return await _act(
        request, fingerprint, lambda c, fp, now: ops.add_note(c, fp, key.name, body.note, now)
    )


@router.post("/v1/alerts/{fingerprint}/close", response_model=AlertOut, responses=ACTION_ERRORS)
async def close(
    fingerprint: Fingerprint,
    body: Close,
    request: Request,
    key: Annotated[ApiKey, Depends(operator)],
) -> AlertOut:
    """Close an alert: the loop is done (闭环). An alert that still fires (or is pending) is
    closed only with `confirm_firing: true` and a note (else 409 `still_firing`, 422 without the
    note); it then stays on the duty list, `closed_while_firing`, until its condition clears.
    The audit line records the key's name and the note. Role: operator."""
    return await _act(
        request,
        fingerprint,
        lambda c, fp, now: ops.close(
            c, fp, key.name, body.note, now, confirm_firing=body.confirm_firing
        ),
    )


@router.get("/v1/audit", response_model=Page[TransitionOut], responses=errors())
async def audit(
    request: Request,
    _: Annotated[ApiKey, Depends(viewer)],
    fingerprint: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[
        str | None, Query(max_length=64, description="firing, acknowledged, ...")
    ] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[TransitionOut]:
    """The audit trail of every alert: state changes and ops actions, newest first. Role:
    viewer."""
    state = get_state(request)
    size = page_size(limit, state.config.max_page)
    before = decode_cursor(cursor, int)
    async with connection(state.pool, "reading the audit trail") as conn:
        rows = await store.list_transitions(
            conn,
            fingerprint=fingerprint,
            kind=kind,
            actor=actor,
            since=since,
            until=until,
            before_id=before[0] if before else None,
            limit=size + 1,
        )
    items = [TransitionOut.model_validate(r) for r in rows[:size]]
    return Page[TransitionOut](
        items=items, next=encode_cursor(items[-1].id) if len(rows) > size else None
    )
