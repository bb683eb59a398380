"""API keys over the API (the same as `cityvitals keys`): list, create, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway.auth import admin
from gateway.errors import NotFound
from gateway.keys import create_key
from gateway.models import KeyCreated, KeyOut, KeyRequest
from gateway.openapi import errors
from gateway.state import get_state
from storage.api_keys import ApiKey, list_keys, revoke_key
from storage.pool import connection

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=list[KeyOut], responses=errors())
async def list_all(
    request: Request,
    _: Annotated[ApiKey, Depends(admin)],
    include_revoked: Annotated[bool, Query()] = False,
) -> list[KeyOut]:
    """Keys (never their secrets). Role: admin."""
    async with connection(get_state(request).pool, "listing keys") as conn:
        keys = await list_keys(conn, include_revoked=include_revoked)
    return [KeyOut.model_validate(k, from_attributes=True) for k in keys]


@router.post("", response_model=KeyCreated, status_code=201, responses=errors())
async def create(
    body: KeyRequest, request: Request, _: Annotated[ApiKey, Depends(admin)]
) -> KeyCreated:
    """Create a key; the answer holds its secret, shown only this once. Role: admin."""
    async with connection(get_state(request).pool, "creating a key") as conn:
        key, secret = await create_key(conn, body.name, body.role)
    return KeyCreated(
        **KeyOut.model_validate(key, from_attributes=True).model_dump(), secret=secret
    )


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
    return KeyOut.model_validate(key, from_attributes=True)
