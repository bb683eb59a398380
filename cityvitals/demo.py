"""`make demo`: the platform on one machine with embedded defaults.

Starts a PostgreSQL cluster and a Mosquitto broker of its own (data under `data_dir`, so a second
run finds yesterday's data), prepares storage, and runs the services that exist. Each later part
of the platform (ingest, alerts, gateway, simulators) joins here as it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.settings import Settings, load_settings
from cityvitals.startup import load_vocabulary, prepare
from ingest.service import IngestService
from storage.backend import Backend
from storage.maintenance import Maintenance
from storage.pool import create_pool

log = logging.getLogger(__name__)

DEMO_INVENTORY = Path(__file__).parents[1] / "schemas" / "inventory" / "example.yaml"
DATABASE = "cityvitals"
SUMMARY_EVERY_S = 5.0


async def run_demo(data_dir: Path, duration_s: float | None) -> None:
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
        _banner(settings, postgres, broker, prepared.backend.value, data_dir)
        await _serve(settings, prepared.backend, duration_s)
    finally:
        # The servers run in their own sessions (Ctrl-C does not reach them): stop them here.
        await asyncio.to_thread(broker.stop)
        await asyncio.to_thread(postgres.stop)
        print("demo stopped; data kept in", data_dir, flush=True)


def _ensure_database(postgres: EmbeddedPostgres) -> None:
    exists = postgres.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip()
    if not exists:
        postgres.create_database(DATABASE)


def _banner(
    settings: Settings,
    postgres: EmbeddedPostgres,
    broker: EmbeddedMosquitto,
    backend: str,
    data_dir: Path,
) -> None:
    print(
        "\nCityVitals demo is running (Ctrl-C stops it)\n"
        f"  database  {settings.database_url}   (backend: {backend}, log {postgres.log_path})\n"
        f"  broker    {settings.mqtt_url}\n"
        "  topics    city/v1/<domain>/<subdistrict>/<sensor>/telemetry (see README)\n"
        f"  data      {data_dir}\n",
        flush=True,
    )


async def _serve(settings: Settings, backend: Backend, duration_s: float | None) -> None:
    pool = await create_pool(settings.database_url, max_size=6, application_name="cityvitals-demo")
    maintenance = Maintenance(pool, backend, settings.storage.policy())
    registry, _ = load_vocabulary(settings)
    ingest = IngestService(settings, pool, backend, registry)
    ingesting = asyncio.create_task(ingest.run())
    helpers = [
        asyncio.create_task(maintenance.run_forever(settings.storage.maintenance_interval)),
        asyncio.create_task(_summaries(pool)),
    ]
    try:
        if duration_s is None:
            await asyncio.gather(ingesting, *helpers)
        else:
            await asyncio.wait([ingesting], timeout=duration_s)
            if ingesting.done():
                ingesting.result()
    finally:
        ingest.stop()  # drains: what was received is committed and acknowledged
        with contextlib.suppress(asyncio.CancelledError):
            await ingesting
        for task in helpers:
            task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()


async def _summaries(pool: asyncpg.Pool) -> None:
    previous, previous_at = None, time.monotonic()
    while True:
        row = await pool.fetchrow(
            "SELECT (SELECT count(*) FROM sensors) AS sensors, "
            "(SELECT count(*) FROM readings) AS readings, "
            "(SELECT count(*) FROM dead_letters) AS dead_letters"
        )
        assert row is not None
        now = time.monotonic()
        rate = 0.0 if previous is None else (row["readings"] - previous) / (now - previous_at)
        previous, previous_at = row["readings"], now
        print(
            f"{datetime.now(UTC):%H:%M:%S}  sensors {row['sensors']:>6}  "
            f"readings {row['readings']:>10} ({rate:,.0f}/s)  dead letters {row['dead_letters']}",
            flush=True,
        )
        await asyncio.sleep(SUMMARY_EVERY_S)
