"""Connection pools, created once at start-up by the composition root and passed in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import asyncpg

from storage.errors import PoolExhausted, is_transient, translate

# The longest anyone waits for a pooled connection. A connection is held for one query (bounded
# by the statement timeout) or one transaction, so a wait this long means the pool is wedged
# (connections held and never given back) or the server does not accept connections: either
# way, failing is better than waiting forever, and callers already handle DatabaseUnavailable.
ACQUIRE_TIMEOUT_S = 10.0


async def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    application_name: str = "cityvitals",
    statement_timeout_s: float | None = None,
    server_settings: Mapping[str, str] | None = None,
) -> asyncpg.Pool:
    """`min_size` connections are opened at once; `statement_timeout_s`: the server cancels any
    statement running longer (None: no limit); `server_settings`: more session settings (say,
    work_mem) for every connection.

    asyncpg keeps a pool's floor of `min_size` connections by reconnecting in the background,
    logging a warning with a traceback every second or so while the server is down. Our services
    already retry their own work and say so once per outage (`ingest.retrying`), so the floor is
    ours: the pool starts with `min_size` connections opened here and keeps released connections
    open, but nothing reconnects behind our back.
    """
    settings = {"application_name": application_name, "timezone": "UTC", **(server_settings or {})}
    if statement_timeout_s is not None:
        settings["statement_timeout"] = f"{max(1, round(statement_timeout_s * 1000))}ms"
    async with translate(f"connecting to {redact_dsn(dsn)}"):
        pool = await asyncpg.create_pool(
            dsn, min_size=0, max_size=max_size, server_settings=settings
        )
        assert pool is not None
        try:
            await _open(pool, min(min_size, max_size))
        except BaseException:
            await pool.close()
            raise
    return pool


async def _open(pool: asyncpg.Pool, count: int) -> None:
    """Open `count` connections now (acquired together, then handed back idle)."""
    async with contextlib.AsyncExitStack() as held:
        for _ in range(count):
            await held.enter_async_context(pool.acquire())


async def acquire(
    pool: asyncpg.Pool, action: str, timeout_s: float = ACQUIRE_TIMEOUT_S
) -> asyncpg.Connection:
    """A pooled connection for `action` (hand it back with `pool.release`), within `timeout_s`:
    PoolExhausted when every connection stayed in use, DatabaseUnavailable when the server
    could not be reached."""
    async with translate(action):
        try:
            return await pool.acquire(timeout=timeout_s)
        except TimeoutError:
            if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
                raise PoolExhausted(
                    f"{action}: all {pool.get_max_size()} database connections stayed in use "
                    f"for {timeout_s:g} s"
                ) from None
            raise  # opening a connection took that long: the server's problem, translated


@asynccontextmanager
async def connection(
    pool: asyncpg.Pool, action: str, timeout_s: float = ACQUIRE_TIMEOUT_S
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for `action` (see `acquire`), with errors translated to
    StorageErrors.

    A connection that failed with a transient error is terminated rather than handed back: after
    a server restart it may be left mid-protocol, and the next user would fail with "another
    operation is in progress" instead of getting a fresh connection. When the connection was
    lost, the pool may already have taken it back; then there is nothing to terminate, and the
    error that matters is the database's, which is what the caller gets.
    """
    conn = await acquire(pool, action, timeout_s)
    async with translate(action):
        try:
            yield conn
        except BaseException as error:
            if is_transient(error) or isinstance(error, asyncio.CancelledError):
                with contextlib.suppress(asyncpg.exceptions.InterfaceError):
                    conn.terminate()
            raise
        finally:
            await pool.release(conn)


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for error messages and logs."""
    scheme, sep, rest = dsn.partition("://")
    if "@" not in rest:
        return dsn
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else dsn
