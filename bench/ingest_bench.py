"""Ingest: end-to-end readings/s and latency, next to the bare-subscriber ceiling, zero loss;
and how soon a restarted worker is subscribed again.

Every consumer (the ingest, a bare paho subscriber, a bare subscriber on our own MQTT client)
runs in a process of its own while this process publishes, so each measurement has the same
publisher and broker load. Throughput is publish start to last commit (or last message counted);
latency is per reading, from the publish time stamped into the payload to its commit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench import consumers
from bench.mqtt_load import Message, Publisher
from bench.report import Figure
from bench.startup_bench import RUNS as STARTUP_RUNS
from bench.startup_bench import launch_to_subscribed_ms
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.settings import load_settings
from cityvitals.startup import prepare
from schemas.geography import load_geography
from schemas.inventory import Inventory, SensorRecord
from schemas.topics import telemetry_topic
from storage.catalog import sync_inventory

SENSORS = 2_000
SINGLE_MESSAGES = 200_000
BATCHED_MESSAGES = 6_000
READINGS_PER_BATCHED_MESSAGE = 100
LATENCY_RATE = 10_000  # messages/s, below capacity: latency, not queueing, is measured
LATENCY_SECONDS = 10
RUNS = 3  # throughput figures are medians of this many runs


@dataclass(frozen=True)
class Stack:
    database_url: str
    mqtt_url: str


@contextmanager
def stack() -> Iterator[Stack]:
    base = Path(tempfile.mkdtemp(prefix="cv-bench-ingest-"))
    base.chmod(0o755)
    postgres = EmbeddedPostgres(base / "pg")
    # Anonymous, as in the tests: the figures compare consumers, not broker logins (and the
    # bare paho subscriber takes a plain URL).
    broker = EmbeddedMosquitto(base / "mqtt", anonymous=True)
    postgres.start()
    broker.start()
    try:
        postgres.create_database("bench")
        yield Stack(postgres.url_for("bench"), broker.url)
    finally:
        broker.stop()
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


def _sensors() -> list[SensorRecord]:
    """Sensors spread over the subdistricts of the shipped geography (the figures compare
    releases), each at its subdistrict's representative point."""
    places = list(load_geography())
    return [
        SensorRecord(
            id=f"bench-{n:05d}",
            type="water_main_pressure",
            subdistrict=places[n % len(places)].code,
            lat=places[n % len(places)].lat,
            lon=places[n % len(places)].lon,
        )
        for n in range(SENSORS)
    ]


def _settings(s: Stack, client_id: str) -> dict[str, Any]:
    return {
        "database_url": s.database_url,
        "mqtt_url": s.mqtt_url,
        "ingest": {"client_id": client_id, "metrics_port": 0},
    }


async def _prepare(s: Stack, sensors: list[SensorRecord]) -> None:
    await prepare(load_settings(**_settings(s, "prepare")))
    conn = await asyncpg.connect(s.database_url)
    try:
        await sync_inventory(conn, Inventory({r.id: r for r in sensors}))
    finally:
        await conn.close()


async def _truncate(s: Stack) -> int:
    conn = await asyncpg.connect(s.database_url)
    try:
        count = int(await conn.fetchval("SELECT count(*) FROM readings"))
        await conn.execute("TRUNCATE readings, rollup_invalidations")
        await conn.execute("CHECKPOINT")
        return count
    finally:
        await conn.close()


def single_messages(sensors: list[SensorRecord], count: int, start: datetime) -> list[Message]:
    out = []
    for i in range(count):
        sensor = sensors[i % len(sensors)]
        ts = int((start + timedelta(milliseconds=i)).timestamp() * 1000)
        body = orjson.dumps({"ts": ts, "metrics": {"pressure": 0.3}})
        out.append((telemetry_topic("water", sensor.subdistrict, sensor.id), body))
    return out


def batched_messages(sensors: list[SensorRecord], count: int, start: datetime) -> list[Message]:
    """A gateway's batches: each message carries 100 reports of one sensor, 1 s apart."""
    out = []
    base_ms = int(start.timestamp() * 1000)
    for i in range(count):
        sensor = sensors[i % len(sensors)]
        first = base_ms + (i // len(sensors)) * READINGS_PER_BATCHED_MESSAGE * 1000
        reports = [
            {"ts": first + 1000 * k, "metrics": {"pressure": 0.3}}
            for k in range(READINGS_PER_BATCHED_MESSAGE)
        ]
        out.append((telemetry_topic("water", sensor.subdistrict, sensor.id), orjson.dumps(reports)))
    return out


def _stamp_now(topic: str, payload: bytes) -> bytes:
    """The payload built at publish time, its readings stamped with the publish time (to the
    microsecond, so each stays unique): latency = commit time - reading time."""
    now = datetime.now(UTC)
    reports = int(payload or b"1")
    body = [
        {"ts": (now - timedelta(microseconds=k)).isoformat(), "metrics": {"pressure": 0.3}}
        for k in range(reports)
    ]
    return orjson.dumps(body[0] if reports == 1 else body)


def stamped_messages(sensors: list[SensorRecord], count: int, reports: int) -> list[Message]:
    """Placeholders that `_stamp_now` turns into payloads of `reports` readings each."""
    return [
        (
            telemetry_topic(
                "water", sensors[i % len(sensors)].subdistrict, sensors[i % len(sensors)].id
            ),
            str(reports).encode(),
        )
        for i in range(count)
    ]


async def _publish(mqtt_url: str, messages: list[Message], rate: float | None = None) -> float:
    publisher = await Publisher.connect(mqtt_url, f"bench-pub-{uuid.uuid4().hex[:6]}")
    started = time.time()
    await publisher.publish(messages, rate=rate, stamp=_stamp_now if rate else None)
    await publisher.wait_acked(len(messages), timeout_s=600)
    await publisher.close()
    return started


def _run_consumer(
    target: Any,
    config: dict[str, Any],
    messages: list[Message],
    mqtt_url: str,
    rate: float | None = None,
) -> tuple[float, dict[str, Any]]:
    """Start a consumer process, publish once it is subscribed, return (publish start, result)."""
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    process = ctx.Process(target=target, args=(config, ready, results))
    process.start()
    if not ready.wait(60):
        process.terminate()
        raise RuntimeError(f"{target.__name__} did not get ready")
    started = asyncio.run(_publish(mqtt_url, messages, rate))
    result: dict[str, Any] = results.get(timeout=600)
    process.join(60)
    return started, result


def _throughput(s: Stack, sensors: list[SensorRecord], start: datetime) -> dict[str, float]:
    """Medians over RUNS of each consumer draining the same stream at the publisher's pace."""
    single = single_messages(sensors, SINGLE_MESSAGES, start)
    batched = batched_messages(sensors, BATCHED_MESSAGES, start)
    readings = BATCHED_MESSAGES * READINGS_PER_BATCHED_MESSAGE
    rates: dict[str, list[float]] = {"bare": [], "own": [], "single": [], "batched": []}
    lost = 0
    for run in range(RUNS):
        plain = {"url": s.mqtt_url, "expect": len(single)}
        started, bare = _run_consumer(consumers.bare_paho, plain, single, s.mqtt_url)
        rates["bare"].append(len(single) / (bare["last_at"] - started))
        started, own = _run_consumer(consumers.bare_own_client, plain, single, s.mqtt_url)
        rates["own"].append(len(single) / (own["last_at"] - started))

        config = {"settings": _settings(s, f"bench-single-{run}"), "expect": len(single)}
        started, result = _run_consumer(consumers.ingest, config, single, s.mqtt_url)
        rates["single"].append(len(single) / (result["last_commit_at"] - started))
        lost += len(single) - asyncio.run(_truncate(s))

        config = {"settings": _settings(s, f"bench-batched-{run}"), "expect": readings}
        config["latency"] = False
        started, result = _run_consumer(consumers.ingest, config, batched, s.mqtt_url)
        rates["batched"].append(readings / (result["last_commit_at"] - started))
        lost += readings - asyncio.run(_truncate(s))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    return {**medians, "lost": float(lost)}


def _latency(s: Stack, sensors: list[SensorRecord], reports: int, rate: float) -> dict[str, float]:
    """p50/p99 from publish to commit at a steady `rate` of messages carrying `reports` each."""
    stamped = stamped_messages(sensors, int(rate * LATENCY_SECONDS), reports)
    expected = len(stamped) * reports
    config = {"settings": _settings(s, f"bench-latency-{reports}"), "expect": expected}
    _, result = _run_consumer(consumers.ingest, config, stamped, s.mqtt_url, rate)
    stored = asyncio.run(_truncate(s))
    return {"p50": result["p50_ms"], "p99": result["p99_ms"], "lost": float(expected - stored)}


def measure(s: Stack) -> list[Figure]:
    sensors = _sensors()
    asyncio.run(_prepare(s, sensors))
    startup_ms = launch_to_subscribed_ms(s.database_url, s.mqtt_url)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    # Latency first, on a quiet database: after the throughput runs have written and truncated
    # millions of rows, checkpoints and autovacuum put second-long stalls into the p99.
    single = _latency(s, sensors, 1, LATENCY_RATE)
    batched_rate = LATENCY_RATE / READINGS_PER_BATCHED_MESSAGE * 5  # 50k readings/s
    batched = _latency(s, sensors, READINGS_PER_BATCHED_MESSAGE, batched_rate)
    rates = _throughput(s, sensors, start)
    at_single = f"at {LATENCY_RATE:,} msg/s"
    at_batched = f"at {batched_rate * READINGS_PER_BATCHED_MESSAGE:,.0f} readings/s"
    median = f"median of {RUNS}"
    return [
        Figure(
            "ingest.startup_ms",
            startup_ms,
            "ms",
            f"launch to subscribed, median of {STARTUP_RUNS}; target < 500",
        ),
        Figure(
            "ingest.bare_subscriber.msgs_per_s", rates["bare"], "msg/s", f"paho, counts; {median}"
        ),
        Figure("ingest.bare_own_client.msgs_per_s", rates["own"], "msg/s", f"own client; {median}"),
        Figure(
            "ingest.single_qos1.msgs_per_s", rates["single"], "msg/s", f"publish->commit; {median}"
        ),
        Figure(
            "ingest.single_qos1.ratio_to_bare",
            rates["single"] / rates["bare"],
            "ratio",
            "target >= 0.7",
        ),
        Figure("ingest.single_qos1.ratio_to_own_client", rates["single"] / rates["own"], "ratio"),
        Figure("ingest.single_qos1.p50_ms", single["p50"], "ms", at_single),
        Figure("ingest.single_qos1.p99_ms", single["p99"], "ms", at_single),
        Figure(
            "ingest.batched.readings_per_s", rates["batched"], "readings/s", f"100/msg; {median}"
        ),
        Figure("ingest.batched.p50_ms", batched["p50"], "ms", at_batched),
        Figure("ingest.batched.p99_ms", batched["p99"], "ms", at_batched),
        Figure(
            "ingest.lost", rates["lost"] + single["lost"] + batched["lost"], "readings", "must be 0"
        ),
    ]


def run() -> list[Figure]:
    with stack() as s:
        return measure(s)
