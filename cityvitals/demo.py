"""`make demo`: the platform on one machine with embedded defaults.

Starts a PostgreSQL cluster and a Mosquitto broker of its own (data under `data_dir`, so a second
run finds the earlier data), prepares storage, and runs the ingest, storage maintenance, the alert
engine, the HTTP gateway and a simulated city of about 2,000 sensors with an incident every few
minutes. The first run backfills six hours of history so the walls have something to show; later
runs fill the last hour. A demo duty officer (a local webhook receiver) prints every alert
message the engine sends.

Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop it the same orderly way (`_StopSignals`): the
services stop and the pools close before the servers do. If the demo is killed instead, the
servers' watchdog stops them, and what a demo killed together with its watchdog leaves running
is stopped by the next run (`cityvitals.embedded.stack`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import asyncpg
import uvicorn

from alerts.engine.service import Engine
from cityvitals.configs import engine_config, ingest_config
from cityvitals.demo_receiver import DemoReceiver
from cityvitals.demo_summary import print_summaries
from cityvitals.embedded import (
    EmbeddedMosquitto,
    EmbeddedPostgres,
    EmbeddedServiceError,
    EmbeddedStack,
)
from cityvitals.embedded.ports import free_port
from cityvitals.embedded.stack import (
    DEVICE_ACCOUNT,
    GATEWAY_ACCOUNT,
    INGEST_ACCOUNT,
    SIMULATOR_ACCOUNT,
)
from cityvitals.services import gateway_server
from cityvitals.settings import Settings, load_settings
from cityvitals.simulate import CityPlan, build_city, publish_city, register_fleet
from cityvitals.startup import load_vocabulary, prepare
from gateway.keys import create_key
from ingest.service import IngestService
from simulators.engine import Simulation
from simulators.faults import FaultRates
from storage.api_keys import list_keys, revoke_key
from storage.backend import Backend, BackendPreference
from storage.maintenance import Maintenance
from storage.pool import create_pool, redact_dsn

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
    """Run until `duration_s` passes or a signal stops it (see `_StopSignals`); `data_dir`
    exists."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signals = _StopSignals()
    servers = EmbeddedStack(data_dir)
    postgres, broker = servers.postgres, servers.broker
    secret = secrets.token_urlsafe(24)
    try:
        await asyncio.to_thread(servers.start)
    except EmbeddedServiceError as error:  # another demo on data_dir, a server that failed
        await asyncio.to_thread(servers.stop)
        signals.remove()
        _say(f"demo: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        await asyncio.to_thread(_ensure_database, postgres)
        async with DemoReceiver.running(secret) as receiver:
            receivers = _receivers_file(data_dir, receiver.url)
            os.environ[DEMO_SECRET_ENV] = secret  # read by the engine when it loads receivers
            settings = load_settings(
                database_url=postgres.url_for(DATABASE),
                mqtt_url=broker.url_for(INGEST_ACCOUNT),  # the other services: _as
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
            storage = await _storage_line(servers, prepared.backend, settings.storage.backend)
            _banner(settings, servers, storage, key)
            await _serve(settings, broker, prepared.backend, duration_s, sensors, signals.requested)
    except asyncio.CancelledError:
        if not signals.forced:
            raise
        signals.uncancel()  # cancelled by our own second signal: stop as if asked once
    finally:
        # The servers run in their own sessions (Ctrl-C does not reach them): stop them here,
        # once _serve has closed the pools.
        signals.finishing()
        await asyncio.to_thread(servers.stop)
        signals.remove()
        _say(f"demo stopped; data kept in {data_dir}")


class _StopSignals:
    """Ctrl-C, SIGTERM and SIGHUP (the terminal closed) stop the demo the same way. The first asks
    for an orderly stop (`requested`), which `_serve` acts on once everything has started: the
    services stop, the pools close, then the servers. A second one, for a demo that does not stop
    soon enough, cancels it where it stands; the servers are still stopped."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.forced = False
        self._finishing = False
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        for sig in self.SIGNALS:
            self._loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        if not self.requested.is_set():
            log.info("%s: stopping (once more to stop at once)", sig.name)
            self.requested.set()
        elif not (self.forced or self._finishing) and self._task is not None:
            log.info("%s: stopping at once", sig.name)
            self.forced = True
            self._task.cancel()

    def finishing(self) -> None:
        """From here on the servers are being stopped: later signals must not interrupt that."""
        self._finishing = True

    def uncancel(self) -> None:
        if self._task is not None:
            self._task.uncancel()

    def remove(self) -> None:
        for sig in self.SIGNALS:
            self._loop.remove_signal_handler(sig)


def _say(text: str, file: TextIO = sys.stdout) -> None:
    # After SIGHUP the terminal may be gone: what is left to say is lost, the stop goes on.
    with contextlib.suppress(OSError):
        print(text, file=file, flush=True)


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
        "default_receiver: demo-duty\n"
        "allow_local_urls: true  # the demo duty officer listens on this host\n",
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


async def _storage_line(
    servers: EmbeddedStack, backend: Backend, preference: BackendPreference
) -> str:
    """Which backend the demo runs on, and why (the banner's `storage` line)."""
    if backend is Backend.TIMESCALEDB:
        version = await asyncio.to_thread(
            servers.postgres.psql,
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
            DATABASE,
        )
        return (
            f"TimescaleDB {version.strip()}: a hypertable in daily chunks, compressed per "
            "sensor, continuous aggregates"
        )
    if not servers.timescaledb_installed:
        why = "TimescaleDB is not installed for this PostgreSQL"
    elif preference is BackendPreference.POSTGRES:
        why = "storage.backend says so"
    else:  # `auto` found the backend recorded in the database: its layout stays
        why = (
            "this data dir was made on it and keeps its layout, although TimescaleDB is "
            f"installed now (remove {servers.base_dir} to start over on TimescaleDB)"
        )
    return f"plain PostgreSQL (daily partitions, rollup tables): {why}"


def _as(settings: Settings, broker: EmbeddedMosquitto, account: str) -> Settings:
    """`settings` for a service that logs in to the broker with `account`."""
    return settings.model_copy(update={"mqtt_url": broker.url_for(account)})


def _banner(settings: Settings, servers: EmbeddedStack, storage: str, key: str) -> None:
    """What a person needs to look and to connect; no password whole (they are in files only
    the demo's owner can read, which the banner names)."""
    postgres, broker = servers.postgres, servers.broker
    api = f"http://{settings.gateway.host}:{settings.gateway.port}"
    accounts = broker.accounts_path
    print(
        "\nCityVitals demo is running (Ctrl-C stops it)\n"
        f"  database  {redact_dsn(settings.database_url)}   (password in {postgres.password_path};"
        f" log {postgres.log_path})\n"
        f"  storage   {storage}\n"
        f"  broker    {broker.url}   (no anonymous clients; accounts and passwords in {accounts})\n"
        f"  device    mosquitto_pub -h {broker.host} -p {broker.port} -u {DEVICE_ACCOUNT} "
        f"-P \"$(sed -n 's/^{DEVICE_ACCOUNT}://p' {accounts})\" -q 1 "
        "-t city/v1/water/changbai_xincun/yp-wp-0003/telemetry "
        '-m "{\\"ts\\": $(date +%s000), \\"metrics\\": {\\"pressure\\": 0.31}}"\n'
        "  topics    city/v1/<domain>/<subdistrict>/<sensor>/telemetry (see README)\n"
        f"  gateway   {api}   (OpenAPI: {api}/docs, health: {api}/healthz)\n"
        f"  api key   {key}   (admin, this run only)\n"
        f"            curl -H 'Authorization: Bearer {key}' {api}/v1/alerts\n"
        "  alerts    the engine evaluates every second; the demo duty officer prints each\n"
        "            message below (🔔 firing, ✅ resolved)\n"
        f"  data      {servers.base_dir}\n",
        flush=True,
    )


async def _serve(
    settings: Settings,
    broker: EmbeddedMosquitto,
    backend: Backend,
    duration_s: float | None,
    sensors: int,
    stop_requested: asyncio.Event,
) -> None:
    pool = await create_pool(settings.database_url, max_size=6, application_name="cityvitals-demo")
    registry, geography, _ = load_vocabulary(settings)
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
    simulation = build_city(registry, geography, plan, start)
    await register_fleet(settings.database_url, simulation.fleet)
    ingest = IngestService(ingest_config(settings), pool, backend)
    maintenance = Maintenance(pool, backend, settings.storage.policy())
    engine = Engine(engine_config(settings), pool, registry)
    gateway = _EmbeddedServer(gateway_server(_as(settings, broker, GATEWAY_ACCOUNT), graceful_s=2))
    stop = threading.Event()
    ingesting = asyncio.create_task(ingest.run())
    await ingest.ready.wait()
    # Services that stop by themselves when asked, and helpers that are simply cancelled.
    services = [asyncio.create_task(engine.run()), asyncio.create_task(gateway.serve())]
    await _until_up(gateway, engine, services)  # the summary lines mean "everything runs"
    helpers = [
        asyncio.create_task(maintenance.run_forever(settings.storage.maintenance_interval)),
        asyncio.create_task(
            print_summaries(pool, len(simulation.fleet), ingest.metrics.stored_total)
        ),
        asyncio.create_task(
            _simulate(_as(settings, broker, SIMULATOR_ACCOUNT), simulation, start, stop)
        ),
    ]
    try:
        stopping = asyncio.create_task(stop_requested.wait())
        running = [ingesting, *services, *helpers]
        first = asyncio.FIRST_COMPLETED
        await asyncio.wait([stopping, *running], timeout=duration_s, return_when=first)
        stopping.cancel()
        # Until a stop was asked for, a task that ended is one that failed: say why, unless its
        # output had nowhere to go (the terminal closed, SIGHUP on its way: stop the same way).
        # After a stop was asked for, only the orderly stop matters.
        for task in running:
            if task.done() and not (stop_requested.is_set() or _output_gone(task)):
                task.result()
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


def _output_gone(task: asyncio.Task[None]) -> bool:
    error = task.exception()
    return isinstance(error, OSError) and error.errno in (errno.EIO, errno.EPIPE)


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
