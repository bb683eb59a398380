"""A throwaway Mosquitto broker for tests, the demo and benchmarks.

Everything lives in ``work_dir``: the generated ``mosquitto.conf``, the broker log
``mosquitto.log`` (Mosquitto's own log plus anything it prints before logging is set up,
such as configuration errors), the persistence database under ``data/``, while the broker
runs, ``mosquitto.pid`` (ours: Mosquitto writes a pid file only when it daemonizes), by which a
later launcher finds a broker still running on the same persistence database, and for a broker
with accounts their passwords (``accounts``, 0600) and the files made from them
(``mosquitto_accounts``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Self
from urllib.parse import quote

from cityvitals.embedded import _procfs, watchdog
from cityvitals.embedded.credentials import kept_passwords
from cityvitals.embedded.errors import BinaryNotFound, StartupFailed
from cityvitals.embedded.mosquitto_accounts import (
    ACCOUNTS_FILE,
    BrokerAccount,
    account_files,
    write_account_files,
)
from cityvitals.embedded.ports import free_port, wait_for_port

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
# Generous: on SIGTERM the broker writes its whole in-memory database before exiting.
STOP_TIMEOUT_S = 30.0
_INSTALL_HINT = (
    "install it with `apt-get install mosquitto` (or run scripts/system-deps.sh), "
    "or point CITYVITALS_MOSQUITTO_BIN at the mosquitto executable"
)


def find_mosquitto() -> Path:
    """Locate the broker: ``$CITYVITALS_MOSQUITTO_BIN``, PATH, then ``/usr/sbin/mosquitto``."""
    env = os.environ.get("CITYVITALS_MOSQUITTO_BIN")
    if env:
        if os.access(env, os.X_OK) and Path(env).is_file():
            return Path(env)
        raise BinaryNotFound(f"CITYVITALS_MOSQUITTO_BIN={env} is not an executable file")
    # /usr/sbin is often missing from non-root PATHs, which is where Debian puts the broker.
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise BinaryNotFound(f"mosquitto not found: {_INSTALL_HINT}")


class EmbeddedMosquitto:
    """A Mosquitto broker on ``127.0.0.1:port`` with persistence, tuned for bulk QoS 1 ingest.

    Clients log in with one of ``accounts`` (each allowed the topics its ACL lines name, its
    password made and kept in ``work_dir``: `url_for`); anonymous clients are refused. Only
    ``anonymous=True`` lets anyone in, to do anything: the test harness's choice (its brokers
    carry test traffic for one session), never the demo's.

    ``extra_config`` is appended after the generated settings; Mosquitto lets a later line
    override an earlier one for global scalar options (e.g. ``autosave_interval 0``).
    """

    def __init__(
        self,
        work_dir: Path,
        port: int | None = None,
        *,
        extra_config: str = "",
        accounts: Iterable[BrokerAccount] = (),
        anonymous: bool = False,
    ) -> None:
        self.binary = find_mosquitto()
        self.work_dir = Path(work_dir).absolute()
        self.config_path = self.work_dir / "mosquitto.conf"
        self.log_path = self.work_dir / "mosquitto.log"
        self.data_dir = self.work_dir / "data"
        self.pid_path = self.work_dir / "mosquitto.pid"
        self.accounts_path = self.work_dir / ACCOUNTS_FILE
        self._port = port if port is not None else free_port(HOST)
        self.extra_config = extra_config
        self.accounts = tuple(accounts)
        self.anonymous = anonymous
        if anonymous and self.accounts:
            raise ValueError("a broker open to anonymous clients has no use for accounts")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return self._port

    def use_port(self, port: int) -> None:
        """Listen on ``port`` from the next start (the demo's fixed ports, `EmbeddedStack`)."""
        if self.running:
            raise RuntimeError(f"running on port {self._port}: stop it before changing its port")
        self._port = port

    @property
    def url(self) -> str:
        """The broker's address, with no account: enough only for a broker with ``anonymous``."""
        return f"mqtt://{HOST}:{self._port}"

    def url_for(self, account: str) -> str:
        """The broker's address with `account` and its password, as clients take it."""
        if account not in {a.name for a in self.accounts}:
            raise ValueError(f"the broker in {self.work_dir} has no account {account!r}")
        password = kept_passwords(self.accounts_path, [account])[account]
        return f"mqtt://{quote(account, safe='')}:{quote(password, safe='')}@{HOST}:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self.running else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def render_config(self) -> str:
        lines = [
            # First, as it decides whether the security options after it (allow_anonymous)
            # are global or belong to a listener; 2.0.11 does not check the order itself.
            "per_listener_settings false",
            f"listener {self._port} {HOST}",
            *self._security(),
            "persistence true",
            # Trailing slash: Mosquitto 1.x appended the file name without a separator.
            f"persistence_location {self.data_dir}/",
            # The save is a full synchronous rewrite of the in-memory database inside the
            # single-threaded event loop, so a short interval stalls delivery whenever a large
            # backlog is queued. A clean stop() always saves; a kill() loses at most the last
            # 30 s of broker state, which publishers' QoS 1 retries must cover anyway.
            "autosave_interval 30",
            f"log_dest file {self.log_path}",
            # One type per line: 2.0.11 silently keeps only the first word of
            # "log_type error warning notice".
            "log_type error",
            "log_type warning",
            "log_type notice",
            # The broker limits of README.md's Ingest section, the same as deploy/mosquitto's
            # (tests/deploy/test_broker_limits.py keeps them equal). Mosquitto's defaults (20 in
            # flight, 1,000 queued per client) throttle the ingest and drop its backlog.
            "max_inflight_messages 20000",
            "max_queued_messages 2000000",
            "max_queued_bytes 1073741824",
            "max_packet_size 1048576",
            # Reclaim sessions of crashed test clients with random ids, yet outlive a weekend.
            "persistent_client_expiration 7d",
        ]
        if os.geteuid() == 0:
            # As root the broker otherwise drops to the `mosquitto` user, which cannot write
            # work_dir; `user root` keeps it as root (it then logs a warning).
            lines.append("user root")
        return "\n".join(lines) + "\n" + self.extra_config + "\n"

    def _security(self) -> list[str]:
        if self.anonymous:
            return ["allow_anonymous true"]
        if not self.accounts:
            raise ValueError(
                f"the broker in {self.work_dir} has no accounts and refuses anonymous clients: "
                "no client could connect (give it accounts, or anonymous=True for a test broker)"
            )
        password_file, acl_file = account_files(self.work_dir)
        return ["allow_anonymous false", f"password_file {password_file}", f"acl_file {acl_file}"]

    def start(self) -> None:
        """Write the config, start the broker and wait until it listens (30 s)."""
        if self.running:
            return
        if (pid := self._running_broker()) is not None:
            # Two brokers autosaving one persistence database would overwrite each other.
            raise StartupFailed(f"mosquitto: already running on {self.work_dir} as pid {pid}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.render_config()  # first: it refuses a broker no client could use
        if self.accounts:
            write_account_files(self.accounts, self.work_dir, self.binary)
        self.config_path.write_text(config, encoding="utf-8")
        log.info("starting Mosquitto on :%d in %s", self._port, self.work_dir)
        # Append mode, like Mosquitto's own log_dest file: both writers interleave safely.
        with self.log_path.open("ab") as log_file:
            # Own session: Ctrl-C in the terminal must not race our orderly shutdown.
            self._proc = subprocess.Popen(
                [str(self.binary), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,
                start_new_session=True,
            )
        self.pid_path.write_text(f"{self._proc.pid}\n", encoding="utf-8")
        watchdog.watch(self._proc.pid, signal.SIGTERM, f"Mosquitto for {self.work_dir}")
        atexit.register(self.stop)
        proc = self._proc

        def alive() -> bool:
            return proc.poll() is None

        try:
            wait_for_port(HOST, self._port, START_TIMEOUT_S, "mosquitto", self.log_path, alive)
        except BaseException:
            self.kill()
            raise

    def stop(self) -> None:
        """SIGTERM (the broker saves its database), wait up to 30 s, then SIGKILL."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("Mosquitto did not stop within %g s; killing it", STOP_TIMEOUT_S)
                self.kill()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would: state since the last autosave is lost."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def stop_leftover(self) -> int | None:
        """``EmbeddedPostgres.stop_leftover`` for the broker on ``work_dir``: its pid, or None."""
        pid = self._running_broker()
        if pid is not None:
            _procfs.stop(pid, signal.SIGTERM, STOP_TIMEOUT_S)
        self.pid_path.unlink(missing_ok=True)
        return pid

    def restart(self) -> None:
        """Stop and start again on the same port with the same persistence database."""
        self.stop()
        self.start()

    def _running_broker(self) -> int | None:
        """The pid in ``mosquitto.pid`` if it is still a broker on our configuration."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        # A recycled pid belongs to another program, or to a broker with another configuration.
        running = _procfs.alive(pid) and _procfs.command_name(pid) == "mosquitto"
        return pid if running and str(self.config_path) in _procfs.command_line(pid) else None

    def _cleanup(self) -> None:
        atexit.unregister(self.stop)
        if self._proc is not None:
            watchdog.forget(self._proc.pid)
            self.pid_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
