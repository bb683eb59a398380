"""Alerts: evaluation time per tick for 100,000 sensors, and alert latency with 10,000 reporting.

Tick: a city of 100,000 simulated sensors (every type, all 12 subdistricts) with ten minutes of
history, 1 % of the water-main gauges and transformers breaching; each measured tick follows a
minute in which every series reported, so every one of the ~250,000 series is read, merged and
compared (the worst case: in real time most ticks see only a few seconds of readings). A tick is
read + window aggregates + evaluation + notification planning + commit, default and shipped
rules, one receiver.

Latency: 10,000 sensors report through Mosquitto and `cityvitals ingest` (a process of its own)
while `cityvitals alerts` (another process, 1 s ticks) evaluates; 100 gauges, one after another,
publish a red low-pressure reading, and the time from that publish to the webhook arriving at a
local HTTP receiver is measured per alert. The bench's rules fire at once (hold 0) and group per
sensor, so what is measured is the pipeline, not a hold or a group_interval someone configured.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from alerts.engine.core import EngineCore
from alerts.notify.receivers import parse_routing
from alerts.rules.files import RULES_DIR, load_rule_files
from bench.alerts_load import (
    LatencyReceiver,
    background_load,
    breach_gauges,
    city_rows,
    write_rows,
)
from bench.report import Figure
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.settings import load_settings
from cityvitals.startup import prepare
from schemas.registry import Registry, load_registry
from simulators.fleet import build_fleet, fleet_inventory
from simulators.model import SimSensor
from storage.catalog import sync_inventory

TICK_SENSORS = 100_000
TICK_RUNS = 5
LATENCY_SENSORS = 10_000
LATENCY_ALERTS = 100
SECRET = "bench-secret"


@contextmanager
def _servers(broker: bool) -> Iterator[tuple[str, str | None, Path]]:
    base = Path(tempfile.mkdtemp(prefix="cv-bench-alerts-"))
    base.chmod(0o755)
    postgres = EmbeddedPostgres(base / "pg")
    # Anonymous, as in the tests: the bench measures the engine and ingest, not broker logins.
    mosquitto = EmbeddedMosquitto(base / "mqtt", anonymous=True) if broker else None
    postgres.start()
    if mosquitto is not None:
        mosquitto.start()
    try:
        postgres.create_database("bench")
        yield postgres.url_for("bench"), None if mosquitto is None else mosquitto.url, base
    finally:
        if mosquitto is not None:
            mosquitto.stop()
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


async def _city(url: str, registry: Registry, size: int) -> list[SimSensor]:
    await prepare(load_settings(database_url=url))
    fleet = build_fleet(registry, size=size, seed=1)
    conn = await asyncpg.connect(url)
    try:
        await sync_inventory(conn, fleet_inventory(fleet))
    finally:
        await conn.close()
    return fleet


async def _ticks(url: str, registry: Registry) -> list[Figure]:
    await _city(url, registry, TICK_SENSORS)
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
        rows_per_minute = 0
        for minute in range(-10, TICK_RUNS + 1):
            rows = await city_rows(conn, registry, now + timedelta(minutes=minute), seed=minute)
            rows_per_minute = len(rows)
            await write_rows(conn, rows)
        await conn.execute("ANALYZE readings")  # as autovacuum keeps it on a live system
        routing = parse_routing(
            "receivers: [{name: duty, kind: webhook, url: 'http://127.0.0.1:9/', "
            "secret_env: S}]\ndefault_receiver: duty\nallow_local_urls: true\n",
            "bench",
            {"S": SECRET},
        )
        core = EngineCore(registry, load_rule_files(registry, RULES_DIR), routing)
        await core.resume(conn, now)
        await core.tick(conn, now)  # the first tick brings the alerts of the start into being
        seconds, stepped, alerts = [], 0, 0
        for minute in range(1, TICK_RUNS + 1):
            started = time.perf_counter()
            report = await core.tick(conn, now + timedelta(minutes=minute))
            seconds.append(time.perf_counter() - started)
            stepped = max(stepped, report.stepped)
            alerts = core.active_count()
    finally:
        await conn.close()
    median = statistics.median(seconds)
    return [
        Figure(
            "alerts.tick_100k.seconds",
            median,
            "s",
            f"median of {TICK_RUNS}, max {max(seconds):.3f}; {TICK_SENSORS:,} sensors, "
            f"{rows_per_minute:,} readings a tick, {stepped:,} stepped, {alerts:,} active; "
            "target < 1",
        )
    ]


def _service_env(url: str, mqtt: str, base: Path, receiver_url: str) -> dict[str, str]:
    rules = base / "rules"
    rules.mkdir()
    (rules / "at_once.yaml").write_text(
        "overrides:\n  - rule: default:water_main_pressure:pressure:below\n"
        "    hold: 0s\n    keep_firing_for: 0s\n"
    )
    receivers = base / "receivers.yaml"
    receivers.write_text(
        f"receivers: [{{name: duty, kind: webhook, url: '{receiver_url}', secret_env: S, "
        "send_resolved: false}]\ndefault_receiver: duty\ngroup_by: [alertname, sensor]\n"
        "allow_local_urls: true\n"
    )
    return {
        **os.environ,
        "CITYVITALS_DATABASE_URL": url,
        "CITYVITALS_MQTT_URL": mqtt,
        "CITYVITALS_ALERTS__RULES_DIR": str(rules),
        "CITYVITALS_ALERTS__RECEIVERS_PATH": str(receivers),
        "CITYVITALS_ALERTS__METRICS_PORT": "0",
        "CITYVITALS_INGEST__METRICS_PORT": "0",
        "CITYVITALS_INGEST__CLIENT_ID": "bench-alerts-ingest",
        "S": SECRET,
    }


async def _latency(url: str, mqtt: str, base: Path, registry: Registry) -> list[Figure]:
    fleet = await _city(url, registry, LATENCY_SENSORS)
    gauges = [s for s in fleet if s.type_name == "water_main_pressure"][:LATENCY_ALERTS]
    # The gauges under test report only their breach: a routine reading arriving in the same
    # tick would otherwise be the latest value and hide it.
    quiet = [s for s in fleet if s not in gauges]
    async with LatencyReceiver.running(SECRET) as receiver:
        env = _service_env(url, mqtt, base, receiver.url)
        command = [sys.executable, "-m", "cityvitals.cli"]
        services = [_start([*command, "ingest"], env), _start([*command, "alerts"], env)]
        try:
            await _wait_for_engine(url)
            load = asyncio.create_task(background_load(mqtt, quiet, rate=1_000))
            await asyncio.sleep(5)  # the city is reporting
            published = await breach_gauges(mqtt, gauges, interval_s=0.3)
            await receiver.wait_for({g.id for g in gauges}, timeout_s=30)
            load.cancel()
        finally:
            for service in services:
                service.terminate()
            for service in services:
                service.wait(30)
    latencies = sorted(1000 * (receiver.arrived[g.id] - published[g.id]) for g in gauges)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    note = f"{len(latencies)} alerts, {LATENCY_SENSORS:,} sensors reporting, 1 s ticks"
    return [
        Figure("alerts.latency.p50_ms", p50, "ms", note),
        Figure("alerts.latency.p99_ms", p99, "ms", f"{note}; target < 2000"),
    ]


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


async def _wait_for_engine(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for _ in range(300):
            leading = await conn.fetchval(
                "SELECT count(*) FROM alert_engines WHERE leader "
                "AND heartbeat_at > now() - interval '3 s'"
            )
            if leading:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise RuntimeError("the alert engine did not start")


def run() -> list[Figure]:
    registry = load_registry()
    figures: list[Figure] = []
    with _servers(broker=False) as (url, _, _base):
        figures += asyncio.run(_ticks(url, registry))
    with _servers(broker=True) as (url, mqtt, base):
        assert mqtt is not None
        figures += asyncio.run(_latency(url, mqtt, base, registry))
    return figures
