"""`make demo`: the platform on one machine with embedded defaults.

Starts a PostgreSQL cluster and a Mosquitto broker of its own (data under `data_dir`, so a second
run finds the earlier data), prepares storage, and runs the ingest, storage maintenance, the alert
engine, the HTTP gateway and a simulated city of about 2,000 sensors with an incident every few
minutes. The first run backfills six hours of history so the walls have something to show; later
runs fill the last hour. A demo duty officer (a local webhook receiver) prints every alert
message the engine sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import uvicorn

from alerts.engine import Engine
from cityvitals.demo_receiver import DemoReceiver
from cityvitals.demo_summary import print_summaries
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.embedded.ports import free_port
from cityvitals.services import engine_config, gateway_config
from cityvitals.settings import Settings, load_settings
from cityvitals.simulate import CityPlan, build_city, publish_city, register_fleet
from cityvitals.startup import load_vocabulary, prepare
from gateway.keys import create_key
from ingest.service import IngestService
from simulators.engine import Simulation
from simulators.faults import FaultRates
from storage.api_keys import list_keys, revoke_key
from storage.backend import Backend
from storage.maintenance import Maintenance
from storage.pool import create_pool

log = logging.getLogger(__name__)

DEMO_INVENTORY = Path(__file__).parents[1] / "schemas" / "inventory" / "example.yaml"
DATABASE = "cityvitals"
DEMO_SECRET_ENV = "CITYVITALS_DEMO_WEBHOOK_SECRET"
DEMO_KEY_NAME = "demo"
DEMO_SCENARIOS = (
    "water_main_burst",
    "heatwave_grid_stress",
    "stadium_event",
    "building_fire",
    "flash_flood",
)


async def run_demo(data_dir: Path, duration_s: float | None, sensors: int = 2_000) -> None:
    """Run until `duration_s` passes or the task is cancelled (Ctrl-C); `data_dir` exists."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    postgres = EmbeddedPostgres(data_dir / "postgres")
    broker = EmbeddedMosquitto(data_dir / "mosquitto")
    secret = secrets.token_urlsafe(24)
    try:
        await asyncio.to_thread(postgres.start)
        await asyncio.to_thread(broker.start)
        await asyncio.to_thread(_ensure_database, postgres)
        async with DemoReceiver.running(secret) as receiver:
            receivers = _receivers_file(data_dir, receiver.url)
            os.environ[DEMO_SECRET_ENV] = secret  # read by the engine when it loads receivers
            settings = load_settings(
                database_url=postgres.url_for(DATABASE),
                mqtt_url=broker.url,
                inventory_path=DEMO_INVENTORY,
                ingest={"client_id": "cityvitals-demo-ingest", "metrics_port": 0},
                alerts={
                    "receivers_path": receivers,
                    "engine_name": "cityvitals-demo-alerts",
                    "metrics_port": 0,
                },
                gateway={"port": free_port()},
            )
            prepared = await prepare(settings)
            key = await _demo_key(settings.database_url)
            _banner(settings, postgres, prepared.backend.value, data_dir, key)
            await _serve(settings, prepared.backend, duration_s, sensors)
    finally:
        # The servers run in their own sessions (Ctrl-C does not reach them): stop them here.
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(postgres.stop)
        print("demo stopped; data kept in", data_dir, flush=True)


def _ensure_database(postgres: EmbeddedPostgres) -> None:
    exists = postgres.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip()
    if not exists:
        postgres.create_database(DATABASE)


def _receivers_file(data_dir: Path, url: str) -> Path:
    path = data_dir / "receivers.yaml"
    path.write_text(
        "# Written by `cityvitals demo`: every alert goes to the demo duty officer.\n"
        f"receivers: [{{name: demo-duty, kind: webhook, url: '{url}', "
        f"secret_env: {DEMO_SECRET_ENV}}}]\n"
        "default_receiver: demo-duty\n",
        encoding="utf-8",
    )
    return path


async def _demo_key(database_url: str) -> str:
    """A fresh operator key for this run; the previous run's demo keys are revoked."""
    conn = await asyncpg.connect(database_url)
    try:
        now = datetime.now(UTC)
        for old in await list_keys(conn):
            if old.name == DEMO_KEY_NAME:
                await revoke_key(conn, old.id, now)
        _, secret = await create_key(conn, DEMO_KEY_NAME, "admin")
        return secret
    finally:
        await conn.close()


def _banner(
    settings: Settings, postgres: EmbeddedPostgres, backend: str, data_dir: Path, key: str
) -> None:
    api = f"http://{settings.gateway.host}:{settings.gateway.port}"
    print(
        "\nCityVitals demo is running (Ctrl-C stops it)\n"
        f"  database  {settings.database_url}   (backend: {backend}, log {postgres.log_path})\n"
        f"  broker    {settings.mqtt_url}\n"
        "  topics    city/v1/<domain>/<subdistrict>/<sensor>/telemetry (see README)\n"
        f"  gateway   {api}   (OpenAPI: {api}/docs, health: {api}/healthz)\n"
        f"  api key   {key}   (admin, this run only)\n"
        f"            curl -H 'Authorization: Bearer {key}' {api}/v1/alerts\n"
        "  alerts    the engine evaluates every second; the demo duty officer prints each\n"
        "            message below (🔔 firing, ✅ resolved)\n"
        f"  data      {data_dir}\n",
        flush=True,
    )


async def _serve(
    settings: Settings, backend: Backend, duration_s: float | None, sensors: int
) -> None:
    pool = await create_pool(settings.database_url, max_size=6, application_name="cityvitals-demo")
    registry, _ = load_vocabulary(settings)
    now = datetime.now(UTC)
    history = await pool.fetchval("SELECT EXISTS (SELECT 1 FROM readings)")
    start = now - (timedelta(hours=1) if history else timedelta(hours=6))
    plan = CityPlan(
        sensors=sensors,
        seed=1,
        faults=FaultRates.realistic(),
        scenarios=DEMO_SCENARIOS,
        first_scenario_after=(now - start) + timedelta(minutes=1),
    )
    simulation = build_city(registry, plan, start)
    await register_fleet(settings.database_url, simulation.fleet)
    ingest = IngestService(settings, pool, backend, registry)
    maintenance = Maintenance(pool, backend, settings.storage.policy())
    engine = Engine(engine_config(settings), pool, registry)
    gateway = _EmbeddedServer(gateway_config(settings, graceful_s=2))
    stop = threading.Event()
    ingesting = asyncio.create_task(ingest.run())
    await ingest.ready.wait()
    # Services that stop by themselves when asked, and helpers that are simply cancelled.
    services = [asyncio.create_task(engine.run()), asyncio.create_task(gateway.serve())]
    await _until_up(gateway, engine, services)  # the summary lines mean "everything runs"
    helpers = [
        asyncio.create_task(maintenance.run_forever(settings.storage.maintenance_interval)),
        asyncio.create_task(print_summaries(pool, len(simulation.fleet))),
        asyncio.create_task(_simulate(settings, simulation, start, stop)),
    ]
    try:
        if duration_s is None:
            await asyncio.gather(ingesting, *services, *helpers)
        else:
            await asyncio.wait([ingesting], timeout=duration_s)
            if ingesting.done():
                ingesting.result()
    finally:
        stop.set()
        engine.stop()
        gateway.should_exit = True
        ingest.stop()  # drains: what was received is committed and acknowledged
        with contextlib.suppress(asyncio.CancelledError):
            await ingesting
        await asyncio.wait(services, timeout=10)
        for task in [*services, *helpers]:
            task.cancel()
        await asyncio.gather(*services, *helpers, return_exceptions=True)
        await pool.close()


async def _until_up(
    gateway: uvicorn.Server, engine: Engine, services: list[asyncio.Task[None]]
) -> None:
    async with asyncio.timeout(60):
        while not (gateway.started and engine.leading.is_set()):
            for task in services:
                if task.done():
                    task.result()  # a service that failed to start: say why
            await asyncio.sleep(0.1)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to the demo, which stops every
    service itself, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _simulate(
    settings: Settings, simulation: Simulation, start: datetime, stop: threading.Event
) -> None:
    """The city: history since `start` at full speed, then real time (simulated = wall time)."""
    await asyncio.to_thread(
        publish_city,
        settings,
        simulation,
        start=start,
        end=None,
        speed=1.0,
        stop=stop,
        anchor=start.timestamp(),
        client_prefix="cityvitals-demo-sim",
    )
