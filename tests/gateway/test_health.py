"""/healthz and /readyz answer different questions: /healthz fails only when the process is
wedged (a restart cures it), /readyz while the database or the broker cannot be reached (a
restart would not). A keyed request never hangs on a pool whose connections stay in use."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.gateway.conftest import Gateway, assert_error


async def test_a_pool_held_whole_fails_healthz_and_answers_503(gateway: Gateway) -> None:
    pool = gateway.state.pool
    async with contextlib.AsyncExitStack() as held:
        for _ in range(pool.get_max_size()):
            await held.enter_async_context(pool.acquire())
        wedged = await gateway.get("/healthz", role=None)
        assert wedged.status_code == 503
        assert wedged.json()["status"] == "wedged"
        size = pool.get_max_size()
        assert wedged.json()["detail"] == (
            f"no pooled database connection came free within 0.5 s ({size} of {size} held)"
        )
        # A keyed request waits storage.pool.ACQUIRE_TIMEOUT_S, then says why it gave up.
        busy = assert_error(await gateway.get("/v1/sensors"), 503)
        assert busy["detail"] == (
            "the gateway is busy: every database connection stayed in use; retry shortly"
        )
    assert (await gateway.get("/healthz", role=None)).json() == {"status": "ok"}
    assert (await gateway.get("/v1/sensors")).status_code == 200


async def test_healthz_needs_no_database_and_readyz_names_it(gateway: Gateway) -> None:
    url = urlsplit(gateway.url)
    database = url.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(url._replace(path="/postgres")))
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND application_name = 'cityvitals-gateway'",
            database,
        )
        alive = await gateway.get("/healthz", role=None)
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        ready = await gateway.get("/readyz", role=None)
        assert ready.status_code == 503
        assert ready.json()["database"].startswith("unreachable")
        assert ready.json()["broker"] == "ok"
        down = assert_error(await gateway.get("/v1/sensors"), 503)
        assert down["detail"].startswith("the database")  # its own words are in the log only
        assert database not in down["detail"]
        assert "Error" not in down["detail"]
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await gateway.get("/readyz", role=None)).status_code == 200
    assert (await gateway.get("/v1/sensors")).status_code == 200
