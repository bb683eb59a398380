"""`make demo`: the platform on one machine with embedded defaults.

Starts a PostgreSQL cluster and a Mosquitto broker of its own (data under `data_dir`, so a second
run finds the earlier data), prepares storage, and runs the ingest, storage maintenance, the alert
engine, the HTTP gateway and a simulated city of about 2,000 sensors with an incident every few
minutes. The first run backfills six hours of history so the walls have something to show; later
runs fill the last hour (the banner says so, a line says when it is done, and `backfill.json`
tells the console). A demo duty officer (a local webhook receiver) prints every alert message the
engine sends: with the summary, that is all the terminal shows; the rest goes to the log file.

The ports stay the same from one run to the next (`DEMO_PORTS`; another only when one is busy,
which the banner says), and the demo writes its settings file (`demo_files`) so that the
`cityvitals` commands of another shell reach it after the one `export` line the banner prints.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TextIO

import uvicorn

from alerts.engine.service import Engine
from cityvitals.configs import engine_config, ingest_config
from cityvitals.demo_banner import (
    DEMO_DATABASE,
    history_done_line,
    history_line,
    print_banner,
    storage_line,
)
from cityvitals.demo_database import FIRST_BACKFILL, demo_keys, ensure_database, history_to_fill
from cityvitals.demo_files import (
    BACKFILL_FILE,
    BackfillState,
    write_backfill_state,
    write_receivers_file,
    write_settings_file,
)
from cityvitals.demo_receiver import DemoReceiver
from cityvitals.demo_summary import print_summaries
from cityvitals.embedded import (
    EmbeddedMosquitto,
    EmbeddedServiceError,
    EmbeddedStack,
)
from cityvitals.embedded.ports import choose_port
from cityvitals.embedded.stack import (
    GATEWAY_ACCOUNT,
    INGEST_ACCOUNT,
    SIMULATOR_ACCOUNT,
)
from cityvitals.logs import configure_demo_logging
from cityvitals.services import gateway_server
from cityvitals.settings import ENV_PREFIX, Settings, SettingsError, load_settings
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
DATABASE = DEMO_DATABASE
DEMO_SECRET_ENV = "CITYVITALS_DEMO_WEBHOOK_SECRET"
# The ports a person finds the demo on every time (PostgreSQL's and Mosquitto's moved off their
# usual ports, where a system server often listens). The gateway's may be set as the gateway's
# setting is: CITYVITALS_GATEWAY__PORT.
DEMO_PORTS = {"gateway": 8080, "PostgreSQL": 15432, "Mosquitto": 11883}
GATEWAY_PORT_ENV = f"{ENV_PREFIX}GATEWAY__PORT"
LOG_FILE = "demo.log"
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
    configure_demo_logging(data_dir / LOG_FILE)
    try:
        wanted_gateway_port = _wanted_gateway_port()
    except SettingsError as error:
        _say(f"demo: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    signals = _StopSignals()
    servers = EmbeddedStack(
        data_dir, postgres_port=DEMO_PORTS["PostgreSQL"], broker_port=DEMO_PORTS["Mosquitto"]
    )
    postgres, broker = servers.postgres, servers.broker
    secret = secrets.token_urlsafe(24)
    try:
        await asyncio.to_thread(servers.start)
    except EmbeddedServiceError as error:  # another demo on data_dir, a server that failed
        await asyncio.to_thread(servers.stop)
        signals.remove()
        _say(f"demo: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    failed = False
    try:
        await asyncio.to_thread(ensure_database, postgres)
        gateway_port = choose_port("gateway", wanted_gateway_port)
        # What a shell needs to reach this demo; the demo runs on the same file.
        shell = {
            "database_url": postgres.url_for(DATABASE),
            "mqtt_url": broker.url_for(SIMULATOR_ACCOUNT),
            "inventory_path": str(DEMO_INVENTORY),
            "gateway": {"port": gateway_port.port},
        }
        settings_file = write_settings_file(data_dir, shell)
        async with DemoReceiver.running(secret) as receiver:
            receivers = write_receivers_file(data_dir, receiver.url, DEMO_SECRET_ENV)
            os.environ[DEMO_SECRET_ENV] = secret  # read by the engine when it loads receivers
            # The demo's own servers and ports over any CITYVITALS_* variable set in this shell
            # (which outrank a settings file): a production CITYVITALS_DATABASE_URL stays unused.
            settings = load_settings(
                settings_file,
                database_url=shell["database_url"],
                inventory_path=DEMO_INVENTORY,
                mqtt_url=broker.url_for(INGEST_ACCOUNT),  # the other services: _as
                ingest={"client_id": "cityvitals-demo-ingest", "metrics_port": 0},
                alerts={
                    "receivers_path": receivers,
                    "engine_name": "cityvitals-demo-alerts",
                    "metrics_port": 0,
                },
                gateway={"port": gateway_port.port},
            )
            prepared = await prepare(settings)
            keys = await demo_keys(settings.database_url)
            backfill, now = await history_to_fill(settings.database_url), datetime.now(UTC)
            start = now - backfill
            state = BackfillState.filling(start, now)
            write_backfill_state(data_dir, state)
            moved = [c for c in [gateway_port, *servers.port_choices] if c.moved]
            print_banner(
                settings,
                servers,
                storage=await storage_line(servers, prepared.backend, settings.storage.backend),
                keys=keys,
                moved=moved,
                history=history_line(backfill, first_run=backfill == FIRST_BACKFILL),
                settings_file=settings_file,
                log_file=data_dir / LOG_FILE,
            )
            await _serve(
                settings,
                broker,
                prepared.backend,
                _Run(start, sensors, duration_s, data_dir, state),
                signals.requested,
            )
    except (SettingsError, EmbeddedServiceError) as error:  # CITYVITALS_* settings, all ports busy
        _say(f"demo: {error}", file=sys.stderr)
        failed = True
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
    if failed:
        raise SystemExit(1)


def _wanted_gateway_port() -> int:
    """The gateway's usual port: DEMO_PORTS', or the one CITYVITALS_GATEWAY__PORT names."""
    raw = os.environ.get(GATEWAY_PORT_ENV, "").strip()
    if not raw:
        return DEMO_PORTS["gateway"]
    if not raw.isdigit() or not 1 <= int(raw) <= 65_535:
        raise SettingsError(f"{GATEWAY_PORT_ENV}: {raw!r} is not a port (1 to 65535)")
    return int(raw)


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
            _say(f"{sig.name}: stopping (once more to stop at once)")
            self.requested.set()
        elif not (self.forced or self._finishing) and self._task is not None:
            _say(f"{sig.name}: stopping at once")
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


def _as(settings: Settings, broker: EmbeddedMosquitto, account: str) -> Settings:
    """`settings` for a service that logs in to the broker with `account`."""
    return settings.model_copy(update={"mqtt_url": broker.url_for(account)})


@dataclass(frozen=True)
class _Run:
    """What `_serve` runs: the city from `start`, the backfill's state to report."""

    start: datetime
    sensors: int
    duration_s: float | None
    data_dir: Path
    backfill: BackfillState


async def _serve(
    settings: Settings,
    broker: EmbeddedMosquitto,
    backend: Backend,
    run: _Run,
    stop_requested: asyncio.Event,
) -> None:
    pool = await create_pool(settings.database_url, max_size=6, application_name="cityvitals-demo")
    registry, geography, _ = load_vocabulary(settings)
    start = run.start
    plan = CityPlan(
        sensors=run.sensors,
        seed=1,
        faults=FaultRates.realistic(),
        scenarios=DEMO_SCENARIOS,
        first_scenario_after=(datetime.now(UTC) - start) + timedelta(minutes=1),
    )
    simulation = build_city(registry, geography, plan, start)
    await register_fleet(settings.database_url, simulation.fleet)
    ingest = IngestService(ingest_config(settings), pool, backend)
    maintenance = Maintenance(pool, backend, settings.storage.policy())
    engine = Engine(engine_config(settings), pool, registry)
    gateway = _EmbeddedServer(
        gateway_server(
            _as(settings, broker, GATEWAY_ACCOUNT),
            graceful_s=2,
            history_state=run.data_dir / BACKFILL_FILE,
        )
    )
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
            _simulate(
                _as(settings, broker, SIMULATOR_ACCOUNT),
                simulation,
                start,
                stop,
                partial(_backfill_done, run),
            )
        ),
    ]
    try:
        stopping = asyncio.create_task(stop_requested.wait())
        running = [ingesting, *services, *helpers]
        first = asyncio.FIRST_COMPLETED
        await asyncio.wait([stopping, *running], timeout=run.duration_s, return_when=first)
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


def _backfill_done(run: _Run) -> None:
    """The city has caught up with the present: a line on the terminal, and `backfill.json`
    says `done` (for the console's wall). Called in the event loop, once."""
    now = datetime.now(UTC)
    write_backfill_state(run.data_dir, run.backfill.done(now))
    began = datetime.fromisoformat(run.backfill.started_at)
    _say(history_done_line(began - run.start, (now - began).total_seconds()))


async def _simulate(
    settings: Settings,
    simulation: Simulation,
    start: datetime,
    stop: threading.Event,
    caught_up: Callable[[], None],
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
        on_caught_up=partial(asyncio.get_running_loop().call_soon_threadsafe, caught_up),
    )
