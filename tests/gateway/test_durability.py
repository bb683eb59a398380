"""A reading acknowledged with 2xx is in the database even if the gateway is killed right
after: the real `cityvitals gateway` process, SIGKILLed the moment an answer arrives."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from cityvitals.embedded import EmbeddedMosquitto, free_port
from gateway.keys import create_key
from tests.gateway.conftest import INVENTORY
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

POSTERS = 4
KILL_AFTER = 200  # acknowledged posts


async def test_sigkill_right_after_the_answer(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> None:
    port = free_port()
    conn = await asyncpg.connect(prepared.url)
    try:
        _, secret = await create_key(conn, "kill-test", "ingest")
    finally:
        await conn.close()
    env = {
        **os.environ,
        "CITYVITALS_DATABASE_URL": prepared.url,
        "CITYVITALS_MQTT_URL": mqtt_broker.url,
        "CITYVITALS_INVENTORY_PATH": str(INVENTORY),
        "CITYVITALS_GATEWAY__PORT": str(port),
        "CITYVITALS_STORAGE__BACKEND": prepared.backend.value,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cityvitals.cli",
        "gateway",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    acknowledged: list[datetime] = []
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _wait_until_up(client, process)

            async def post(worker: int) -> None:
                i = worker
                while process.returncode is None:
                    ts = start + timedelta(milliseconds=i)
                    body = {"ts": ts.isoformat(), "metrics": {"pressure": 0.3}}
                    try:
                        response = await client.post(
                            "/v1/ingest/water/yinhang/yp-wp-0001/telemetry",
                            json=body,
                            headers={"X-API-Key": secret},
                        )
                    except httpx.TransportError:
                        return  # killed while this request was in flight: no promise made
                    if response.status_code == 200:
                        acknowledged.append(ts)
                        if len(acknowledged) == KILL_AFTER:
                            process.send_signal(signal.SIGKILL)  # no await in between
                            return
                    else:
                        raise AssertionError(response.text)
                    i += POSTERS

            await asyncio.gather(*(post(w) for w in range(POSTERS)))
    finally:
        if process.returncode is None:
            process.kill()
        output = (await process.communicate())[0].decode(errors="replace")
    # Killed, not ended by itself: a gateway that stops logs it (uvicorn's "Shutting down"), one
    # that crashes leaves a traceback. The exit status alone cannot show it: asyncio reports 255
    # when another waiter in this process reaped the child first, which CPython's
    # subprocess._cleanup does for a stale Popen whose pid was reused (an earlier test's).
    assert process.returncode in (-signal.SIGKILL, 255), output
    assert "Shutting down" not in output, output
    assert "Traceback" not in output, output
    conn = await asyncpg.connect(prepared.url)
    try:
        stored = {r["ts"] for r in await conn.fetch("SELECT ts FROM readings")}
    finally:
        await conn.close()
    missing = [ts for ts in acknowledged if ts not in stored]
    assert len(acknowledged) >= KILL_AFTER
    assert missing == [], f"{len(missing)} acknowledged readings lost"


async def _wait_until_up(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    async def answers() -> bool:
        if process.returncode is not None:
            raise AssertionError("the gateway exited at start")
        try:
            return (await client.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(answers)
