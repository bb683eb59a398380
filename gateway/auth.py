"""Access control: an API key on every request, and the role it needs.

Keys are sent as ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``. Roles:

- ``viewer``: read everything (registry, sensors, readings, vital signs, alerts, live stream,
  metrics);
- ``operator``: a viewer who also acts on alerts (acknowledge, assign, note, close), silences
  and reads dead letters;
- ``admin``: an operator who also changes the registry and sensors, replays dead letters and
  manages keys;
- ``ingest``: may only post readings (devices and IoT platforms: a leaked device key must not
  read the city's data or close its alerts). ``admin`` may post readings too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.errors import Forbidden, Unauthenticated
from gateway.keys import matches, parse_key
from gateway.state import get_state
from storage.api_keys import ApiKey, find_key, touch_key
from storage.pool import connection


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    INGEST = "ingest"


_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


def permits(role: Role, needed: Role) -> bool:
    if needed is Role.INGEST:
        return role in (Role.INGEST, Role.ADMIN)
    if role is Role.INGEST:
        return False
    return _RANK[role] >= _RANK[needed]


_API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key: cvk_<id>_<secret>"
)
_BEARER = HTTPBearer(auto_error=False, description="The same key as a bearer token")
Caller = Callable[..., Awaitable[ApiKey]]


def require(needed: Role) -> Caller:
    """A dependency that authenticates the request and checks its role; returns the key."""

    async def authenticate(
        request: Request,
        api_key: Annotated[str | None, Security(_API_KEY)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
    ) -> ApiKey:
        text = api_key or (bearer.credentials if bearer is not None else None)
        if not text:
            raise Unauthenticated(
                "missing API key: send X-API-Key: <key> or Authorization: Bearer <key>"
            )
        key_id = parse_key(text)
        if key_id is None:
            raise Unauthenticated("not an API key (expected cvk_<id>_<secret>)")
        state = get_state(request)
        async with connection(state.pool, "checking an API key") as conn:
            found = await find_key(conn, key_id)
            if found is None or not matches(text, found[1]):
                raise Unauthenticated(f"unknown API key {key_id}")
            key = found[0]
            if key.revoked_at is not None:
                raise Unauthenticated(f"API key {key_id} was revoked at {key.revoked_at}")
            await touch_key(conn, key, state.now())
        if not permits(Role(key.role), needed):
            raise Forbidden(
                f"API key {key_id} ({key.name}) has role {key.role}; this needs {needed.value}"
            )
        return key

    authenticate.role = needed  # type: ignore[attr-defined]  # read by tests and docs
    return authenticate


viewer = require(Role.VIEWER)
operator = require(Role.OPERATOR)
admin = require(Role.ADMIN)
ingest = require(Role.INGEST)
