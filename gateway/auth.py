"""Access control: an API key on every request, and the role it needs.

Keys are sent as ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``. Roles:

- ``viewer``: read everything (registry, sensors, readings, vital signs, alerts, live stream,
  metrics);
- ``operator``: a viewer who also acts on alerts (acknowledge, assign, note, close), silences
  and reads dead letters;
- ``admin``: an operator who also changes the registry and sensors, replays dead letters and
  manages keys;
- ``ingest``: may only post readings (devices and IoT platforms: a leaked device key must not
  read the city's data or close its alerts), for the sensors of its scope (`gateway.scopes`).
  ``admin`` may post readings too.

Wrong keys are limited per client address and refused keys remembered for a while
(`gateway.failed_auth`), so guessing keys cannot starve the pool of real requests.
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.errors import Forbidden, TooBusy, Unauthenticated
from gateway.failed_auth import FailureBuckets, RefusedKeys
from gateway.keys import hash_key, parse_key
from gateway.state import get_state
from storage.api_keys import ApiKey, find_key, touch_key
from storage.pool import connection

log = logging.getLogger(__name__)


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
        failures = _failures(request)
        host = request.client.host if request.client is not None else None
        wait = failures.buckets.wait(host)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooBusy(
                f"API key: too many wrong keys from {host}; try again in {seconds} s "
                "(gateway.auth_failures_per_minute)",
                retry_after_s=seconds,
            )
        try:
            key = await _lookup(request, text, failures.refused)
        except Unauthenticated:
            if failures.buckets.failed(host):
                log.warning("too many wrong API keys from %s: refusing its keys for now", host)
            raise
        if not permits(Role(key.role), needed):
            raise Forbidden(
                f"API key {key.id} ({key.name}) has role {key.role}; this needs {needed.value}"
            )
        return key

    authenticate.role = needed  # type: ignore[attr-defined]  # read by tests and docs
    return authenticate


async def _lookup(request: Request, text: str, refused: RefusedKeys) -> ApiKey:
    """The key `text` is, if it is one in use; raises Unauthenticated (and remembers why)."""
    key_id = parse_key(text)
    if key_id is None:
        raise Unauthenticated("not an API key (expected cvk_<id>_<secret>)")
    text_hash = hash_key(text)
    why = refused.reason(text_hash)
    if why is not None:
        raise Unauthenticated(why)
    state = get_state(request)
    async with connection(state.pool, "checking an API key") as conn:
        found = await find_key(conn, key_id)
        if found is None or not hmac.compare_digest(text_hash, found[1]):
            why = f"unknown API key {key_id}"
        elif found[0].revoked_at is not None:
            why = f"API key {key_id} was revoked at {found[0].revoked_at}"
        else:
            await touch_key(conn, found[0], state.now())
            return found[0]
    refused.refuse(text_hash, why)
    raise Unauthenticated(why)


class _Failures:
    def __init__(self, per_minute: int) -> None:
        self.buckets = FailureBuckets(per_minute)
        self.refused = RefusedKeys()


def _failures(request: Request) -> _Failures:
    """The failure records of this app (one per gateway process), made on first use: the
    dependencies are module-level, the records must not be (tests run apps side by side)."""
    app_state = request.app.state
    failures: _Failures | None = getattr(app_state, "auth_failures", None)
    if failures is None:
        failures = _Failures(get_state(request).config.auth_failures_per_minute)
        app_state.auth_failures = failures
    return failures


viewer = require(Role.VIEWER)
operator = require(Role.OPERATOR)
admin = require(Role.ADMIN)
ingest = require(Role.INGEST)
