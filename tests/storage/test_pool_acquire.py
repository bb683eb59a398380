"""Nobody waits forever for a pooled connection: PoolExhausted when every one stays in use,
DatabaseUnavailable when the server cannot be reached, and a wait that ran out leaves the pool
whole."""

from __future__ import annotations

import contextlib

import asyncpg
import pytest

from cityvitals.embedded.ports import free_port
from storage.errors import DatabaseUnavailable, PoolExhausted
from storage.pool import connection, create_pool
from tests.harness import POSTGRES_ONLY

GUARD_S = 30  # only a broken pool waits this long


@POSTGRES_ONLY  # the pool is the same over both backends
async def test_a_pool_whose_connections_stay_in_use_says_so(pool: asyncpg.Pool) -> None:
    size = pool.get_max_size()
    async with contextlib.AsyncExitStack() as held:
        for _ in range(size):
            await held.enter_async_context(pool.acquire())
        with pytest.raises(PoolExhausted) as refused:
            async with connection(pool, "reading the city", timeout_s=0.2):
                pass
    assert str(refused.value) == (
        f"reading the city: all {size} database connections stayed in use for 0.2 s"
    )
    assert isinstance(refused.value, DatabaseUnavailable)  # callers that retry, retry
    # The wait that ran out took nothing: the whole pool can be held again.
    async with contextlib.AsyncExitStack() as held:
        for _ in range(size):
            await held.enter_async_context(pool.acquire(timeout=GUARD_S))
    async with connection(pool, "reading the city") as conn:
        assert await conn.fetchval("SELECT 1") == 1


async def test_a_server_that_cannot_be_reached_is_not_a_busy_pool() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    pool = await create_pool(url, min_size=0, max_size=2)
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            async with connection(pool, "reading the city", timeout_s=GUARD_S):
                pass
        assert not isinstance(refused.value, PoolExhausted)
        assert str(refused.value).startswith("reading the city: database unavailable")
    finally:
        await pool.close()
