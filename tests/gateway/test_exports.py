"""Exports over a real socket: whichever way a stream ends (its database connection lost
midway, its client gone, cut off by gateway.max_export_duration), its export slot and its
database connection come back, so no client can wedge exports or the pool (issue 12, item 2);
and exports may not be allowed every connection of the pool.

A stream is held in a known place by locking the readings table: the export answers 200 and
sends its CSV header, then its query waits on the lock until the test acts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, SettingsError, load_settings
from tests.gateway.conftest import gateway_settings
from tests.gateway.serving import Served, serving
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

GUARD_S = 30  # a hung stream fails the test instead of hanging it; nothing is timed
EXPORT = {
    "type": "water_main_pressure",
    "subdistrict": "yinhang",
    "start": "2026-11-01T00:00:00Z",
    "end": "2026-11-02T00:00:00Z",
}
HEADER = "ts,sensor,metric,value"


@pytest.fixture
def settings(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> Settings:
    # One export slot and two connections: a slot or a connection kept by a finished stream
    # shows at once (429 for the next export, a pool that cannot be taken whole).
    return gateway_settings(prepared.url, mqtt_broker.url, max_exports=1, pool_size=2)


@contextlib.asynccontextmanager
async def readings_locked(conn: asyncpg.Connection) -> AsyncIterator[None]:
    async with conn.transaction():
        await conn.execute("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE")
        yield


async def export_waiting_on_the_lock(conn: asyncpg.Connection) -> int:
    """The pid of the gateway's export query once it waits on the lock."""
    found: list[int] = []

    async def waiting() -> bool:
        found[:] = (
            await conn.fetchval(
                "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'cityvitals-gateway' AND wait_event_type = 'Lock'"
            )
            or []
        )
        return len(found) == 1

    await wait_until(waiting, timeout_s=GUARD_S)
    return found[0]


async def every_connection_free(served: Served) -> None:
    """Take every connection of the gateway's pool at once: one kept by a stream would make
    this wait until the guard ran out."""
    pool = served.state.pool
    async with contextlib.AsyncExitStack() as held:
        for _ in range(pool.get_max_size()):
            await held.enter_async_context(pool.acquire(timeout=GUARD_S))


@contextlib.asynccontextmanager
async def gateway_and_client(
    settings: Settings,
) -> AsyncIterator[tuple[Served, httpx.AsyncClient, dict[str, str]]]:
    """The gateway on a socket, a client, and a viewer key's header."""
    async with (
        asyncio.timeout(4 * GUARD_S),
        serving(settings) as served,
        httpx.AsyncClient(base_url=served.url, timeout=GUARD_S) as client,
    ):
        yield served, client, {"X-API-Key": served.keys["viewer"]}


@contextlib.asynccontextmanager
async def export_answered(
    client: httpx.AsyncClient, key: dict[str, str]
) -> AsyncIterator[AsyncIterator[str]]:
    """An export that answered 200 and sent its header: the rest of its lines."""
    async with client.stream("GET", "/v1/readings/export", params=EXPORT, headers=key) as answer:
        assert answer.status_code == 200
        lines = answer.aiter_lines()  # kept: a dropped async generator closes the response
        assert await anext(lines) == HEADER
        yield lines


async def assert_exports_work(
    served: Served, client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    assert not served.state.exports.locked()
    await every_connection_free(served)
    done = await client.get("/v1/readings/export", params=EXPORT, headers=key)
    assert done.status_code == 200, done.text
    assert done.text.splitlines()[0] == HEADER
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text


async def test_twenty_exports_failing_midway_give_back_slot_and_connection(
    settings: Settings, conn: asyncpg.Connection
) -> None:
    async with gateway_and_client(settings) as (served, client, key):
        for _ in range(20):
            async with readings_locked(conn), export_answered(client, key) as lines:
                assert served.state.exports.locked()
                # The database connection is lost midway, as in a server restart.
                pid = await export_waiting_on_the_lock(conn)
                assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
                with pytest.raises(httpx.RemoteProtocolError):  # an incomplete body
                    async for _ in lines:
                        pass
            # Given back before the server closed the connection: no wait needed.
            assert not served.state.exports.locked()
        await assert_exports_work(served, client, key)


async def test_a_client_leaving_midway_gives_back_slot_and_connection(
    settings: Settings, conn: asyncpg.Connection
) -> None:
    async with gateway_and_client(settings) as (served, client, key):
        async with readings_locked(conn):
            async with export_answered(client, key):
                await export_waiting_on_the_lock(conn)
            # The client has gone; the server notices and cancels the query.
            await wait_until(lambda: not served.state.exports.locked(), timeout_s=GUARD_S)
        await assert_exports_work(served, client, key)


async def test_an_export_past_its_longest_duration_is_cut_off(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, conn: asyncpg.Connection
) -> None:
    settings = gateway_settings(
        prepared.url, mqtt_broker.url, max_exports=1, pool_size=2, max_export_duration=0.5
    )
    async with gateway_and_client(settings) as (served, client, key):
        async with readings_locked(conn), export_answered(client, key) as lines:
            # Held on the lock for as long as the test likes: only the cut-off ends it.
            with pytest.raises(httpx.RemoteProtocolError):
                async for _ in lines:
                    pass
        await assert_exports_work(served, client, key)


def test_exports_cannot_be_allowed_every_connection() -> None:
    # Exports holding every pooled connection would leave none for any other request.
    with pytest.raises(SettingsError, match=r"max_exports \(8\) must be below pool_size \(8\)"):
        load_settings(gateway={"max_exports": 8, "pool_size": 8})
    assert load_settings(gateway={"max_exports": 7, "pool_size": 8}).gateway.max_exports == 7
