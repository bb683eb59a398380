"""Which time-series backend a database uses: TimescaleDB when present, else plain PostgreSQL.

The choice is recorded in the database the first time migrations run and never changes
afterwards: the two layouts are not interchangeable once data exists (a hypertable versus native
partitions), so silently flipping because the extension appeared or vanished would be wrong.
"""

from __future__ import annotations

from enum import StrEnum

import asyncpg

from storage.errors import BackendError


class Backend(StrEnum):
    TIMESCALEDB = "timescaledb"
    POSTGRES = "postgres"


class BackendPreference(StrEnum):
    AUTO = "auto"  # TimescaleDB if the server can load it, else PostgreSQL
    TIMESCALEDB = "timescaledb"
    POSTGRES = "postgres"


async def timescaledb_usable(conn: asyncpg.Connection) -> tuple[bool, str]:
    """(usable, why not) - installed on the server and preloaded, or already created here."""
    if await conn.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"):
        return True, ""
    available = await conn.fetchval(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        return False, "the timescaledb extension is not installed on this server"
    preload = await conn.fetchval("SELECT current_setting('shared_preload_libraries')")
    if "timescaledb" not in (preload or ""):
        return False, "timescaledb is installed but not in shared_preload_libraries"
    return True, ""


async def recorded_backend(conn: asyncpg.Connection) -> Backend | None:
    exists = await conn.fetchval("SELECT to_regclass('cityvitals_meta') IS NOT NULL")
    if not exists:
        return None
    value = await conn.fetchval("SELECT value FROM cityvitals_meta WHERE key = 'backend'")
    return Backend(value) if value else None


async def choose_backend(conn: asyncpg.Connection, preference: BackendPreference) -> Backend:
    recorded = await recorded_backend(conn)
    if recorded is not None:
        if preference is not BackendPreference.AUTO and preference.value != recorded.value:
            raise BackendError(
                f"storage.backend is {preference.value!r} but this database was created with "
                f"{recorded.value!r}; the layouts are not interchangeable (migrate the data or "
                f"set storage.backend to 'auto')"
            )
        return recorded
    usable, why_not = await timescaledb_usable(conn)
    if preference is BackendPreference.TIMESCALEDB and not usable:
        raise BackendError(f"storage.backend is 'timescaledb' but {why_not}")
    if preference is BackendPreference.POSTGRES or not usable:
        return Backend.POSTGRES
    return Backend.TIMESCALEDB
