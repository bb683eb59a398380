"""PostgreSQL (with TimescaleDB when it is installed) and Mosquitto under one directory, for one
owner at a time: the servers of `make demo`, whose data is kept between runs.

A run may find what an earlier run left there. A run still going keeps the directory: a second
owner is refused (an flock the kernel releases however the owner ends, so a killed owner never
leaves a stale lock). Servers still running although their owner is gone (killed together with
its watchdog, see ``watchdog``) are stopped, with one line saying so, rather than reused: they
may run with other settings than this run's (an older run without TimescaleDB preloaded) and on
ports this run did not choose.

Neither server lets anyone in without a password: PostgreSQL's superuser has one (``pg_auth``),
and the broker has an account for each of the demo's services, for its simulator and for a
person's device (`BROKER_ACCOUNTS`), each allowed only what it does. The passwords are made on
the directory's first run and kept in it, readable by its owner alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from cityvitals.embedded.errors import DirectoryInUse
from cityvitals.embedded.mosquitto import EmbeddedMosquitto
from cityvitals.embedded.mosquitto_accounts import BrokerAccount
from cityvitals.embedded.pgbin import find_pg_bin_dir, timescaledb_available
from cityvitals.embedded.ports import PortChoice, choose_port
from cityvitals.embedded.postgres import TIMESCALEDB_SETTINGS, EmbeddedPostgres

log = logging.getLogger(__name__)

# The demo's broker accounts, the roles of deploy/mosquitto/acl: the ingest reads the sensors'
# topics (directly or through a shared subscription), the gateway only connects (/readyz), the
# simulator and a person's device publish any sensor's readings and status (a field gateway).
INGEST_ACCOUNT = "cityvitals-ingest"
GATEWAY_ACCOUNT = "cityvitals-gateway"
SIMULATOR_ACCOUNT = "cityvitals-simulator"
DEVICE_ACCOUNT = "device"
_SENSOR_TOPICS = ("city/v1/+/+/+/telemetry", "city/v1/+/+/+/status")
BROKER_ACCOUNTS = (
    BrokerAccount(INGEST_ACCOUNT, tuple(f"topic read {t}" for t in _SENSOR_TOPICS)),
    BrokerAccount(GATEWAY_ACCOUNT),
    BrokerAccount(
        SIMULATOR_ACCOUNT,
        (
            *(f"topic write {t}" for t in _SENSOR_TOPICS),
            "topic write cityvitals/simulators/+/status",  # its connections' birth and will
        ),
    ),
    BrokerAccount(DEVICE_ACCOUNT, tuple(f"topic write {t}" for t in _SENSOR_TOPICS)),
)


class EmbeddedStack:
    """``base_dir/postgres`` (data), ``base_dir/mosquitto`` (broker) and ``base_dir/owner.lock``.

    With ``postgres_port`` and ``broker_port`` the servers listen there, or on the next free port
    when one is busy (`port_choices` says which), chosen once a killed earlier owner's servers,
    which held them, are stopped. Without them, on any free port.
    """

    def __init__(
        self, base_dir: Path, *, postgres_port: int | None = None, broker_port: int | None = None
    ) -> None:
        self.base_dir = Path(base_dir).absolute()
        self.timescaledb_installed = timescaledb_available(find_pg_bin_dir())
        # Preloading TimescaleDB changes nothing for a database made on plain PostgreSQL: the
        # backend recorded in it wins (storage.backend), so an older demo directory keeps working.
        settings = TIMESCALEDB_SETTINGS if self.timescaledb_installed else None
        self.postgres = EmbeddedPostgres(self.base_dir / "postgres", extra_settings=settings)
        self.broker = EmbeddedMosquitto(self.base_dir / "mosquitto", accounts=BROKER_ACCOUNTS)
        self._lock: IO[str] | None = None
        self._wanted_ports = {"PostgreSQL": postgres_port, "Mosquitto": broker_port}
        self.port_choices: list[PortChoice] = []

    def start(self) -> None:
        """Claim the directory, stop what a killed earlier owner left running, start both."""
        self._claim()
        self._stop_leftovers()
        self._choose_ports()
        self.postgres.start()
        self.broker.start()

    def stop(self) -> None:
        """Stop what this owner started (the broker first: its clients are ours) and let go."""
        self.broker.stop()
        self.postgres.stop()
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _claim(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        # Not inherited by the servers (Python opens files close-on-exec): a lock they held would
        # outlive a killed owner.
        lock = (self.base_dir / "owner.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "unknown"
            lock.close()
            raise DirectoryInUse(
                f"another process (pid {owner}) runs the servers in {self.base_dir}: "
                "stop it first, or use another directory"
            ) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def _choose_ports(self) -> None:
        servers: dict[str, EmbeddedPostgres | EmbeddedMosquitto] = {
            "PostgreSQL": self.postgres,
            "Mosquitto": self.broker,
        }
        self.port_choices = []
        for service, wanted in self._wanted_ports.items():
            if wanted is not None:
                choice = choose_port(service, wanted)
                servers[service].use_port(choice.port)
                self.port_choices.append(choice)

    def _stop_leftovers(self) -> None:
        stopped = [
            f"{name} (pid {pid})"
            for name, pid in (
                ("PostgreSQL", self.postgres.stop_leftover()),
                ("Mosquitto", self.broker.stop_leftover()),
            )
            if pid is not None
        ]
        if stopped:
            log.warning(
                "an earlier run in %s was killed and left %s running: stopped",
                self.base_dir,
                " and ".join(stopped),
            )
