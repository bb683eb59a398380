"""`make demo`: the platform on one machine with embedded defaults.

Starts a PostgreSQL cluster and a Mosquitto broker of its own (data under `data_dir`, so a second
run finds the earlier data), prepares storage, and runs the ingest, storage maintenance and a
simulated city of about 2,000 sensors with an incident every few minutes. The first run backfills
six hours of history so the walls have something to show; later runs fill the last hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityvitals.demo_summary import print_summaries
from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.settings import Settings, load_settings
from cityvitals.simulate import CityPlan, build_city, publish_city, register_fleet
from cityvitals.startup import load_vocabulary, prepare
from ingest.service import IngestService
from simulators.engine import Simulation
from simulators.faults import FaultRates
from storage.backend import Backend
from storage.maintenance import Maintenance
from storage.pool import create_pool

log = logging.getLogger(__name__)

DEMO_INVENTORY = Path(__file__).parents[1] / "schemas" / "inventory" / "example.yaml"
DATABASE = "cityvitals"
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
    try:
        await asyncio.to_thread(postgres.start)
        await asyncio.to_thread(broker.start)
        await asyncio.to_thread(_ensure_database, postgres)
        settings = load_settings(
            database_url=postgres.url_for(DATABASE),
            mqtt_url=broker.url,
            inventory_path=DEMO_INVENTORY,
            ingest={"client_id": "cityvitals-demo-ingest", "metrics_port": 0},
        )
        prepared = await prepare(settings)
        _banner(settings, postgres, prepared.backend.value, data_dir)
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


def _banner(settings: Settings, postgres: EmbeddedPostgres, backend: str, data_dir: Path) -> None:
    print(
        "\nCityVitals demo is running (Ctrl-C stops it)\n"
        f"  database  {settings.database_url}   (backend: {backend}, log {postgres.log_path})\n"
        f"  broker    {settings.mqtt_url}\n"
        "  topics    city/v1/<domain>/<subdistrict>/<sensor>/telemetry (see README)\n"
        f"  data      {data_dir}\n"
        "  alerts and the HTTP gateway join the demo when they land\n",
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
    stop = threading.Event()
    ingesting = asyncio.create_task(ingest.run())
    await ingest.ready.wait()
    helpers = [
        asyncio.create_task(maintenance.run_forever(settings.storage.maintenance_interval)),
        asyncio.create_task(print_summaries(pool, len(simulation.fleet))),
        asyncio.create_task(_simulate(settings, simulation, start, stop)),
    ]
    try:
        if duration_s is None:
            await asyncio.gather(ingesting, *helpers)
        else:
            await asyncio.wait([ingesting], timeout=duration_s)
            if ingesting.done():
                ingesting.result()
    finally:
        stop.set()
        ingest.stop()  # drains: what was received is committed and acknowledged
        with contextlib.suppress(asyncio.CancelledError):
            await ingesting
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await pool.close()


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
