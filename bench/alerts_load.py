"""Load for the alert benchmarks: a city's readings, MQTT traffic, and a timing receiver."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from alerts.notify.receiving import read_request, verify_request, write_response
from bench.mqtt_load import Message, Publisher
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind
from schemas.topics import telemetry_topic
from simulators.model import SimSensor

Row = tuple[datetime, int, int, float]
BREACHING = {("water_main_pressure", "pressure"): 0.15, ("distribution_transformer", "load"): 112}


def normal_value(metric: Metric, minute: int) -> float:
    if metric.kind is MetricKind.STATE:
        return 0.0
    base = (
        metric.simulator.baseline if metric.simulator else (metric.range.min + metric.range.max) / 2
    )
    if metric.kind is MetricKind.COUNTER:
        return base * (1000 + minute) / 60  # a running total that keeps growing
    return round(min(max(base, metric.range.min), metric.range.max), metric.precision)


async def city_rows(
    conn: asyncpg.Connection, registry: Registry, ts: datetime, seed: int
) -> list[Row]:
    """One reading of every metric of every sensor at `ts`; 1 in 100 gauges and transformers
    breach (the same ones every minute, so their alerts stay up)."""
    series = await conn.fetch(
        "SELECT s.id, s.external_id, t.name AS type, m.id AS metric_id, m.name AS metric "
        "FROM sensors s JOIN metrics m ON m.sensor_type_id = s.sensor_type_id "
        "JOIN sensor_types t ON t.id = s.sensor_type_id"
    )
    rows: list[Row] = []
    for r in series:
        metric = registry.types[r["type"]].metrics[r["metric"]]
        value = normal_value(metric, seed)
        breach = BREACHING.get((r["type"], r["metric"]))
        if breach is not None and zlib.crc32(r["external_id"].encode()) % 100 == 0:
            value = breach
        rows.append((ts, r["id"], r["metric_id"], value))
    return rows


async def write_rows(conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
    from storage.partitions import ensure_partitions

    await ensure_partitions(conn, {row[0].date() for row in rows[:1]})
    await conn.copy_records_to_table(
        "readings", records=rows, columns=("ts", "sensor_id", "metric_id", "value")
    )


def _payload(sensor: SimSensor, now: datetime) -> bytes:
    metrics = {name: normal_value(m, 0) for name, m in sensor.sensor_type.metrics.items()}
    return orjson.dumps({"ts": int(now.timestamp() * 1000), "metrics": metrics})


def _topic(sensor: SimSensor) -> str:
    return telemetry_topic(sensor.sensor_type.domain, sensor.subdistrict, sensor.id)


async def background_load(mqtt_url: str, sensors: Sequence[SimSensor], rate: float) -> None:
    """`rate` messages/s round the fleet, each a full report stamped at publish time."""
    publisher = await Publisher.connect(mqtt_url, f"bench-city-{uuid.uuid4().hex[:6]}")
    by_topic = {_topic(s): s for s in sensors}
    try:
        while True:
            messages: list[Message] = [(t, b"") for t in by_topic]
            await publisher.publish(
                messages,
                rate=rate,
                stamp=lambda topic, _: _payload(by_topic[topic], datetime.now(UTC)),
            )
    finally:
        await publisher.close()


async def breach_gauges(
    mqtt_url: str, gauges: Sequence[SimSensor], interval_s: float
) -> dict[str, float]:
    """A red low-pressure reading from each gauge in turn; returns each one's publish time."""
    publisher = await Publisher.connect(mqtt_url, f"bench-breach-{uuid.uuid4().hex[:6]}")
    published: dict[str, float] = {}
    try:
        for gauge in gauges:

            def stamp(topic: str, _: bytes, gauge: SimSensor = gauge) -> bytes:
                published[gauge.id] = time.time()
                now_ms = int(published[gauge.id] * 1000)
                return orjson.dumps({"ts": now_ms, "metrics": {"pressure": 0.10}})

            await publisher.publish([(_topic(gauge), b"")], stamp=stamp)
            await asyncio.sleep(interval_s)
        await publisher.wait_acked(len(gauges))
    finally:
        await publisher.close()
    return published


class LatencyReceiver:
    """A webhook receiver that notes when each sensor's first firing message arrived; answers
    401 to a bad signature (so a figure is never made of unverified messages)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.arrived: dict[str, float] = {}
        self.rejected = 0
        self.url = ""
        self._changed = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def running(cls, secret: str) -> AsyncIterator[LatencyReceiver]:
        receiver = cls(secret)
        server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0)
        receiver.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
        try:
            yield receiver
        finally:
            server.close()
            await server.wait_closed()

    async def wait_for(self, sensors: set[str], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not sensors <= self.arrived.keys():
                self._changed.clear()
                await self._changed.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            at = time.time()
            ok = verify_request(self.secret, request)
            if ok:
                self._record(json.loads(request.body), at)
            else:
                self.rejected += 1
            await write_response(writer, 200 if ok else 401)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def _record(self, message: dict[str, Any], at: float) -> None:
        for alert in message.get("alerts", []):
            sensor = alert.get("labels", {}).get("sensor")
            if alert.get("status") == "firing" and sensor and sensor not in self.arrived:
                self.arrived[sensor] = at
        self._changed.set()
