"""Connection pools, created once at start-up by the composition root and passed in."""

from __future__ import annotations

import asyncpg

from storage.errors import translate


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, application_name: str = "cityvitals"
) -> asyncpg.Pool:
    async with translate(f"connecting to {redact_dsn(dsn)}"):
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            server_settings={"application_name": application_name, "timezone": "UTC"},
        )
    assert pool is not None
    return pool


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for error messages and logs."""
    scheme, sep, rest = dsn.partition("://")
    if "@" not in rest:
        return dsn
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else dsn
