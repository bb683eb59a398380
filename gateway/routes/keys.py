"""API keys over the API (the same as `cityvitals keys`): list, create, revoke."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway.auth import admin
from gateway.errors import Invalid, NotFound
from gateway.keys import create_key
from gateway.models_keys import KeyCreated, KeyOut, KeyRequest, KeyScopeModel
from gateway.openapi import errors
from gateway.scopes import ScopeProblem, describe, key_scope
from gateway.state import get_state
from storage.api_keys import ApiKey, list_keys, revoke_key
from storage.pool import connection

router = APIRouter(prefix="/v1/keys", tags=["keys"])
_FIELDS = {"scope": "scope", "unbound": "unbound"}  # the request's names of a scope's parts


@router.get("", response_model=list[KeyOut], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(admin)],
    include_revoked: Annotated[bool, Query()] = False,
) -> list[KeyOut]:
    """Keys (never their secrets), with the sensors each may post for: an ingest key bound to
    none says `unbound`. Role: admin."""
    async with connection(get_state(request).pool, "listing keys") as conn:
        keys = await list_keys(conn, include_revoked=include_revoked)
    return [key_out(k) for k in keys]


@router.post("", response_model=KeyCreated, status_code=201, responses=errors())
async def create(
    body: KeyRequest, request: Request, _: Annotated[ApiKey, Depends(admin)]
) -> KeyCreated:
    """Create a key; the answer holds its secret, shown only this once. An ingest key is
    bound to sensors (`scope`: ids or an id prefix, a domain, a subdistrict; every part given
    must hold), or said to be `unbound` (an IoT platform's, for any sensor). Role: admin."""
    given = body.scope or KeyScopeModel()
    try:
        scope = key_scope(
            body.role,
            sensors=given.sensors,
            prefix=given.prefix,
            domain=given.domain,
            subdistrict=given.subdistrict,
            unbound=body.unbound,
            domains=await _declared_domains(request),
            geography=get_state(request).geography,
        )
    except ScopeProblem as problem:
        field = _FIELDS.get(problem.part, f"scope.{problem.part}")
        raise Invalid(f"{field}: {problem.what}", field=field) from None
    async with connection(get_state(request).pool, "creating a key") as conn:
        key, secret = await create_key(conn, body.name, body.role, scope)
    return KeyCreated(**key_out(key).model_dump(), secret=secret)


@router.delete("/{key_id}", response_model=KeyOut, responses=errors(404))
async def revoke(
    key_id: Annotated[str, Path(max_length=64)],
    request: Request,
    _: Annotated[ApiKey, Depends(admin)],
) -> KeyOut:
    """Revoke a key: requests with it fail with 401 from now on. Role: admin."""
    state = get_state(request)
    async with connection(state.pool, "revoking a key") as conn:
        key = await revoke_key(conn, key_id, state.now())
    if key is None:
        raise NotFound(f"key_id: no key {key_id!r} in use", field="key_id")
    return key_out(key)


async def _declared_domains(request: Request) -> Collection[str]:
    state = get_state(request)
    await state.resolver.check_types_when_due(state.now())
    return state.resolver.domains


def key_out(key: ApiKey) -> KeyOut:
    scope = key.scope
    return KeyOut(
        id=key.id,
        name=key.name,
        role=key.role,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        scope=None
        if scope is None
        else KeyScopeModel(
            sensors=None if scope.sensors is None else sorted(scope.sensors),
            prefix=scope.prefix,
            domain=scope.domain,
            subdistrict=scope.subdistrict,
        ),
        unbound=key.role == "ingest" and scope is None,
        posts_for=describe(key),
    )
