"""The city the console figures are taken on: the demo's fleet (2,000 sensors of the shipped
types in the 12 subdistricts, simulators/fleet.py) registered as `make demo` registers it, with
the last hours of its readings as the simulators' signal model makes them (so every tile has
figures and sparklines, and every subdistrict sensors online), a firing alert in each
subdistrict (the wall's counts, colours and ticker have something to show, as a running demo
has), and the gateway on a real socket with the shipped settings (vital-signs TTL, stream
cadence)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import uvicorn

from alerts.model import Alert, Grade, Phase, Subject
from alerts.store import upsert_alerts
from cityvitals.configs import gateway_config
from cityvitals.settings import load_settings
from gateway.app import create_app
from gateway.keys import create_key
from gateway.metrics import GatewayMetrics
from schemas.geography import Geography, load_geography
from schemas.registry import load_registry
from simulators.fleet import build_fleet, fleet_inventory
from simulators.model import SimSensor
from simulators.signals import SignalModel
from storage.backend import BackendPreference
from storage.catalog import load_catalog, sync_inventory
from storage.maintenance import Maintenance
from storage.partitions import days_between, ensure_partitions
from storage.policy import StoragePolicy
from storage.pool import create_pool
from storage.setup import prepare_database
from storage.writer import ReadingWriter, Row

SENSORS = 2_000  # the demo's fleet (cityvitals.simulate.CityPlan)
SEED = 1
HISTORY = timedelta(hours=6)  # the wall's sparklines span the last 6 hours


async def load_city(url: str, now: datetime, geography: Geography) -> tuple[int, int]:
    """The fleet, its last hours of readings and firing alerts; returns how many of each
    (readings, alerts) were written."""
    registry = load_registry()
    fleet = build_fleet(registry, geography, size=SENSORS, seed=SEED)
    conn = await asyncpg.connect(url)
    try:
        prepared = await prepare_database(
            conn,
            preference=BackendPreference.AUTO,
            policy=StoragePolicy(),
            registry=registry,
            geography=geography,
            inventory=None,
            now=now,
        )
        await sync_inventory(conn, fleet_inventory(fleet))
        await ensure_partitions(conn, days_between(now - HISTORY, now + timedelta(days=1)))
        catalog = await load_catalog(conn)
        alerts = firing(fleet, now)
        await upsert_alerts(conn, [(None, alert, {}) for alert in alerts], now)
    finally:
        await conn.close()
    model, rng = SignalModel(SEED), random.Random(SEED)
    rows: list[Row] = []
    for sensor in fleet:
        sensor_id = catalog.sensors[sensor.id].id
        # Each sensor at its type's interval from its own point of the first one.
        at = now - HISTORY + timedelta(seconds=rng.random() * sensor.interval_s)
        while at <= now:
            for metric, value in model.reading(sensor, at).items():
                rows.append((at, sensor_id, catalog.metric_ids[(sensor.type_name, metric)], value))
            at += timedelta(seconds=sensor.interval_s)
    rows.sort(key=lambda row: row[0])
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        written = (await ReadingWriter(pool, prepared.backend).write(rows)).inserted
        await Maintenance(pool, prepared.backend, StoragePolicy()).run_once(now)  # rollups
        await pool.execute("VACUUM ANALYZE")
    finally:
        await pool.close()
    return written, len(alerts)


def firing(fleet: list[SimSensor], now: datetime) -> list[Alert]:
    """One firing water-pressure alert per subdistrict, the grades in turn."""
    gauges = {s.subdistrict: s for s in fleet if s.type_name == "water_main_pressure"}
    grades = list(Grade)
    return [
        Alert(
            "default:water_main_pressure:pressure:below",
            Subject("sensor", gauge.id, "water", place),
            phase=Phase.FIRING,
            grade=grades[n % len(grades)],
            value=0.1,
            pending_since=now - timedelta(minutes=5),
            firing_since=now - timedelta(minutes=3),
            labels={"type": "water_main_pressure", "metric": "pressure"},
        )
        for n, (place, gauge) in enumerate(sorted(gauges.items()))
    ]


@dataclass(frozen=True)
class ServedCity:
    url: str  # the gateway's base URL
    metrics: GatewayMetrics
    geography: Geography
    readings: int
    firing: int  # alerts firing
    # Viewer keys, one per wall: the gateway caps live streams per key (max_streams_per_key).
    keys: list[str]


@contextlib.asynccontextmanager
async def serve_city(url: str, walls: int) -> AsyncIterator[ServedCity]:
    """The city loaded and its gateway serving, with `walls` viewer keys."""
    geography = load_geography()  # the shipped default: the figures compare releases
    now = datetime.now(UTC)
    readings, alerts = await load_city(url, now, geography)
    app = create_app(gateway_config(load_settings(database_url=url)))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        keys = []
        async with app.state.gateway.pool.acquire() as conn:
            for n in range(walls):
                _, secret = await create_key(conn, f"bench-wall-{n:02d}", "viewer")
                keys.append(secret)
        metrics = app.state.gateway.metrics
        yield ServedCity(f"http://127.0.0.1:{port}", metrics, geography, readings, alerts, keys)
    finally:
        server.should_exit = True
        await serving
