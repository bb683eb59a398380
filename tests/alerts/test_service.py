"""`cityvitals alerts` as real processes: killed with SIGKILL while an alert is pending, it
still fires on time once restarted; of two replicas one evaluates and the other takes over.

The hold is 20 s and ticks fall on whole seconds, so "on time" is exact: firing_since is
pending_since + 20 s to the microsecond, whoever evaluated in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from storage.backend import Backend
from storage.catalog import load_catalog
from storage.writer import ReadingWriter
from tests.alerts.local_receiver import SECRET, LocalReceiver, running_receiver
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

HOLD = timedelta(seconds=20)
TICK = timedelta(seconds=1)  # CITYVITALS_ALERTS__TICK
RULE = "default:water_main_pressure:pressure:below"
SENSOR = "yp-wp-0004"


@pytest.fixture
async def receiver() -> AsyncIterator[LocalReceiver]:
    async with running_receiver() as local:
        yield local


@pytest.fixture
def environment(
    prepared: ScratchDatabase, receiver: LocalReceiver, tmp_path: Path
) -> dict[str, str]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "short_hold.yaml").write_text(
        f"overrides:\n  - rule: {RULE}\n    hold: 20s\n    keep_firing_for: 20s\n"
    )
    receivers = tmp_path / "receivers.yaml"
    receivers.write_text(
        "receivers:\n"
        f"  - {{name: duty, kind: webhook, url: '{receiver.url()}', secret_env: DUTY_SECRET}}\n"
        "default_receiver: duty\nallow_local_urls: true  # our duty officer is on 127.0.0.1\n"
    )
    return {
        **os.environ,
        "CITYVITALS_DATABASE_URL": prepared.url,
        "CITYVITALS_ALERTS__RULES_DIR": str(rules),
        "CITYVITALS_ALERTS__RECEIVERS_PATH": str(receivers),
        "CITYVITALS_ALERTS__TICK": "1s",
        "CITYVITALS_ALERTS__METRICS_PORT": "0",
        "DUTY_SECRET": SECRET,
    }


class Engines:
    def __init__(self, environment: dict[str, str], logs: Path) -> None:
        self.environment = environment
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        env = {**self.environment, "CITYVITALS_ALERTS__ENGINE_NAME": name}
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "cityvitals.cli", "alerts"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def print_logs(self) -> None:
        """Shown by pytest when the test failed: what each replica said (a crash at start, …)."""
        for log in sorted(self.logs.glob("*.log")):
            print(f"--- engine {log.stem} ---\n{log.read_text(errors='replace')[-4000:]}")

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def engines(environment: dict[str, str], tmp_path: Path) -> Iterator[Engines]:
    logs = tmp_path / "engine-logs"
    logs.mkdir()
    running = Engines(environment, logs)
    yield running
    running.stop_all()
    running.print_logs()


@contextlib.asynccontextmanager
async def breaching(pool: asyncpg.Pool, backend: Backend) -> AsyncIterator[None]:
    """yp-wp-0004 reports 0.18 MPa (yellow: below 0.20) every second, as a live sensor would."""
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    sensor = catalog.sensors[SENSOR].id
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    writer = ReadingWriter(pool, backend)

    async def report() -> None:
        while True:
            await writer.write([(datetime.now(UTC), sensor, metric, 0.18)])
            await asyncio.sleep(1)  # pacing: the sensor reports once a second

    task = asyncio.create_task(report())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _phase(pool: asyncpg.Pool) -> str | None:
    phase: str | None = await pool.fetchval("SELECT phase FROM alerts WHERE rule_id = $1", RULE)
    return phase


async def _leader(pool: asyncpg.Pool) -> str | None:
    # The lock is the truth; the heartbeat table says who holds it.
    name: str | None = await pool.fetchval(
        "SELECT name FROM alert_engines WHERE leader AND heartbeat_at > now() - interval '3 s'"
    )
    return name


async def _fired_on_time(pool: asyncpg.Pool, receiver: LocalReceiver) -> None:
    async def firing() -> bool:
        return await _phase(pool) == "firing"

    await wait_until(firing, timeout_s=60)
    row = await pool.fetchrow(
        "SELECT pending_since, firing_since FROM alerts WHERE rule_id = $1", RULE
    )
    assert row["firing_since"] - row["pending_since"] == HOLD

    async def delivered() -> bool:
        return bool(
            await pool.fetchval("SELECT count(*) FROM notifications WHERE state = 'delivered'")
        )

    await wait_until(delivered, timeout_s=30)
    # A duplicate would be planned by a tick after the delivery: wait for three of them.
    delivered_at = await pool.fetchval("SELECT max(delivered_at) FROM notifications")

    async def three_ticks_later() -> bool:
        last: datetime | None = await pool.fetchval(
            "SELECT max(last_tick_at) FROM alert_engines WHERE leader"
        )
        return last is not None and last >= delivered_at + 3 * TICK

    await wait_until(three_ticks_later, timeout_s=30)
    firing_messages = [s for s in receiver.seen if b'"status":"firing"' in s.body]
    assert len(firing_messages) == 1  # signature checked by the receiver: 401 otherwise
    assert await pool.fetchval("SELECT count(*) FROM notifications") == 1


async def test_killed_while_pending_it_still_fires_on_time_after_restart(
    prepared: ScratchDatabase, pool: asyncpg.Pool, engines: Engines, receiver: LocalReceiver
) -> None:
    engines.start("solo")

    async def leading() -> bool:
        return await _leader(pool) == "solo"

    await wait_until(leading, timeout_s=60)
    async with breaching(pool, Backend(prepared.backend)):

        async def pending() -> bool:
            return await _phase(pool) == "pending"

        await wait_until(pending, timeout_s=30)
        engines.kill("solo")
        assert await _phase(pool) == "pending"
        engines.start("solo")
        await _fired_on_time(pool, receiver)


async def test_two_replicas_one_evaluates_and_the_other_takes_over(
    prepared: ScratchDatabase, pool: asyncpg.Pool, engines: Engines, receiver: LocalReceiver
) -> None:
    engines.start("a")
    engines.start("b")

    async def one_leads() -> bool:
        return await _leader(pool) in ("a", "b")

    await wait_until(one_leads, timeout_s=60)
    # A second leader would show by now: wait until both replicas have reported since.
    led_at = await pool.fetchval("SELECT now()")

    async def both_heard_since() -> bool:
        heard = await pool.fetchval(
            "SELECT count(*) FROM alert_engines WHERE heartbeat_at > $1", led_at
        )
        return bool(heard == 2)

    await wait_until(both_heard_since, timeout_s=30)
    rows = await pool.fetch("SELECT name, leader FROM alert_engines ORDER BY name")
    assert sorted(r["leader"] for r in rows) == [False, True]  # exactly one evaluates
    leader = await _leader(pool)
    assert leader is not None
    standby = "b" if leader == "a" else "a"
    async with breaching(pool, Backend(prepared.backend)):

        async def pending() -> bool:
            return await _phase(pool) == "pending"

        await wait_until(pending, timeout_s=30)
        engines.kill(leader)

        async def taken_over() -> bool:
            return await _leader(pool) == standby

        await wait_until(taken_over, timeout_s=30)
        await _fired_on_time(pool, receiver)
