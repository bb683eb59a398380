"""API keys of the HTTP gateway, stored hashed: the secret itself is shown once, at creation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

# last_used_at is for humans ("is this key still in use?"): refreshing it once a minute is
# plenty and keeps a write off the path of every request.
TOUCH_EVERY = timedelta(minutes=1)
_COLUMNS = (
    "id, name, role, created_at, revoked_at, last_used_at, "
    "scope_sensors, scope_prefix, scope_domain, scope_subdistrict"
)


@dataclass(frozen=True)
class KeyScope:
    """The sensors an ingest key may post for: every part given must hold (migration 0010)."""

    sensors: frozenset[str] | None = None  # exactly these ids
    prefix: str | None = None  # ids starting with this
    domain: str | None = None
    subdistrict: str | None = None


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    scope: KeyScope | None = None  # None: any sensor (for role ingest: an unbound key)


def _key(row: asyncpg.Record) -> ApiKey:
    sensors, prefix = row["scope_sensors"], row["scope_prefix"]
    domain, subdistrict = row["scope_domain"], row["scope_subdistrict"]
    bound = sensors is not None or prefix or domain or subdistrict
    scope = KeyScope(None if sensors is None else frozenset(sensors), prefix, domain, subdistrict)
    return ApiKey(
        row["id"],
        row["name"],
        row["role"],
        row["created_at"],
        row["revoked_at"],
        row["last_used_at"],
        scope if bound else None,
    )


async def insert_key(
    conn: asyncpg.Connection,
    key_id: str,
    name: str,
    role: str,
    secret_hash: str,
    scope: KeyScope | None = None,
) -> ApiKey:
    scope = scope or KeyScope()
    row = await conn.fetchrow(
        "INSERT INTO api_keys (id, name, role, secret_hash, scope_sensors, scope_prefix, "
        f"scope_domain, scope_subdistrict) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        f"RETURNING {_COLUMNS}",
        key_id,
        name,
        role,
        secret_hash,
        None if scope.sensors is None else sorted(scope.sensors),
        scope.prefix,
        scope.domain,
        scope.subdistrict,
    )
    return _key(row)


async def list_keys(conn: asyncpg.Connection, *, include_revoked: bool = False) -> list[ApiKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE $1 OR revoked_at IS NULL ORDER BY created_at, id",
        include_revoked,
    )
    return [_key(r) for r in rows]


async def revoke_key(conn: asyncpg.Connection, key_id: str, now: datetime) -> ApiKey | None:
    """Revoke `key_id`; None when there is no such key or it was revoked already."""
    row = await conn.fetchrow(
        f"UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL "
        f"RETURNING {_COLUMNS}",
        key_id,
        now,
    )
    return None if row is None else _key(row)


async def find_key(conn: asyncpg.Connection, key_id: str) -> tuple[ApiKey, str] | None:
    """(the key with its scope, its stored secret hash), revoked or not; None when unknown."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS}, secret_hash FROM api_keys WHERE id = $1", key_id)
    return None if row is None else (_key(row), row["secret_hash"])


async def touch_key(conn: asyncpg.Connection, key: ApiKey, now: datetime) -> None:
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key.id, now)
