"""A throwaway PostgreSQL cluster for tests, the demo and benchmarks.

The server log goes to ``<data_dir>.log``, a sibling file of the data directory (``initdb``
needs the data directory itself to be empty, and a sibling keeps two clusters in one parent
directory apart); the superuser's password, the only way in (``pg_auth``), is kept beside it in
``<data_dir>.password``.
"""

from __future__ import annotations

import atexit
import logging
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote

from cityvitals.embedded import _procfs, watchdog
from cityvitals.embedded.errors import EmbeddedServiceError, StartupFailed
from cityvitals.embedded.pg_auth import SUPERUSER, password_file_of, require_password
from cityvitals.embedded.pgbin import find_pg_bin_dir
from cityvitals.embedded.ports import free_port, wait_for_port

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_SOCKET_DIR_PREFIX = "cvpg-"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}
# Sized for a test server that a pool-per-test suite and the benchmarks hammer at once.
_DEFAULT_SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "on",
    "max_connections": "200",
    "shared_buffers": "128MB",
}
# extra_settings for a server with TimescaleDB (see pgbin.timescaledb_available). Telemetry off:
# a throwaway server has nothing to report and may have no way out to the internet.
TIMESCALEDB_SETTINGS = {
    "shared_preload_libraries": "timescaledb",
    "timescaledb.telemetry_level": "off",
}


def _clean_env() -> dict[str, str]:
    # PGOPTIONS, PGDATABASE, PGSERVICE... from the caller's shell must not leak into our server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "5"
    return env


def _short_tmp() -> str:
    # Unix socket paths are capped near 107 bytes; a deep $TMPDIR would overflow it.
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) < 60 else "/tmp"


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


class EmbeddedPostgres:
    """A PostgreSQL server on ``127.0.0.1:port`` owning ``data_dir``; data persists across starts.

    As root, PostgreSQL refuses to run, so initdb and the server run as the ``postgres``
    account (``nobody`` if absent), the data directory is chowned to it and o+x is added to
    parent directories lacking it. Keep ``data_dir`` out of pytest's ``tmp_path`` then: each
    pytest session run as root resets ``/tmp/pytest-of-root`` to 0700 under a running server.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        extra_settings: dict[str, str] | None = None,
    ) -> None:
        self.bin_dir = find_pg_bin_dir()
        # Absolute, because the server runs with cwd=/ (the caller's cwd may be unreadable to it).
        self.data_dir = Path(data_dir).absolute()
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".log")
        self.password_path = password_file_of(self.data_dir)
        self._password: str | None = None
        self._port = port if port is not None else free_port(HOST)
        self.settings = {**_DEFAULT_SETTINGS, **(extra_settings or {})}
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None
        self._run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._run_as = pwd.getpwnam("postgres")
            except KeyError:
                self._run_as = pwd.getpwnam("nobody")

    @property
    def port(self) -> int:
        return self._port

    def use_port(self, port: int) -> None:
        """Listen on ``port`` from the next start (the demo's fixed ports, `EmbeddedStack`)."""
        if self.running:
            raise RuntimeError(f"running on port {self._port}: stop it before changing its port")
        self._port = port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        """The superuser's URL for `dbname`, password included: keep it out of logs
        (`storage.pool.redact_dsn`)."""
        password = quote(self.password, safe="")
        return (
            f"postgresql://{SUPERUSER}:{password}@{HOST}:{self._port}/{_check_identifier(dbname)}"
        )

    @property
    def password(self) -> str:
        """The superuser's password, set by `start` (kept in ``password_path``)."""
        if self._password is None:
            if not self.password_path.exists():
                raise EmbeddedServiceError(
                    f"no password for the PostgreSQL on {self.data_dir} yet: start it first"
                )
            self._password = self.password_path.read_text(encoding="utf-8").strip()
        return self._password

    def start(self) -> None:
        """Initialise ``data_dir`` if needed, start the server and wait until it serves SQL."""
        if self.running:
            return
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._clear_stale_pidfile()
        self._password = require_password(self.data_dir, self.bin_dir / "postgres", self._run)
        self._socket_dir = Path(tempfile.mkdtemp(prefix=_SOCKET_DIR_PREFIX, dir=_short_tmp()))
        self._chown(self._socket_dir)
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self._port)]
        cmd += ["-k", str(self._socket_dir)]
        for key, value in self.settings.items():
            cmd += ["-c", f"{key}={value}"]
        log.info(
            "starting PostgreSQL on :%d for %s (log %s)", self._port, self.data_dir, self.log_path
        )
        with self.log_path.open("ab") as log_file:
            # Own session: Ctrl-C in the terminal must not race our orderly shutdown.
            kwargs = self._subprocess_kwargs(stdout=log_file, stderr=subprocess.STDOUT)
            self._proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        watchdog.watch(self._proc.pid, _STOP_SIGNALS["fast"], f"PostgreSQL for {self.data_dir}")
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """Shut down like ``pg_ctl -m MODE stop``; SIGKILL if still up after 30 s."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(_STOP_SIGNALS[mode])
            try:
                self._proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("PostgreSQL did not stop within %g s; killing it", STOP_TIMEOUT_S)
                self.kill()
                return
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL the server and its backends, as a crash would, and wait until they are gone."""
        # poll() first: once reaped, the pid may already belong to an unrelated process.
        if self._proc is not None and self._proc.poll() is None:
            _procfs.kill_tree(self._proc.pid, STOP_TIMEOUT_S)
            self._proc.wait()
        self._cleanup()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop_leftover(self) -> int | None:
        """Stop a server that still runs on ``data_dir`` although its owner is gone (killed before
        it could stop it, together with its watchdog); return its pid, None if there was none.

        Only for a caller that knows nobody else uses ``data_dir`` (the demo holds a lock on its
        directory): otherwise a running server is someone's, and ``start`` refuses to share it.
        """
        pid = self._running_postmaster()
        if pid is None:
            return None
        socket_dir = self._pidfile_lines()[4:5]
        _procfs.stop(pid, _STOP_SIGNALS["fast"], STOP_TIMEOUT_S)
        # Its socket directory is one of ours (see start), which only its owner would remove.
        if socket_dir and Path(socket_dir[0]).name.startswith(_SOCKET_DIR_PREFIX):
            shutil.rmtree(socket_dir[0], ignore_errors=True)
        return pid

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run ``sql`` (one or more statements) with psql; return its unaligned output."""
        cmd = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        cmd += ["-h", HOST, "-p", str(self._port), "-U", SUPERUSER, "-d", dbname]
        # In the environment, not the command line: /proc/<pid>/environ is the owner's alone.
        env = {**_clean_env(), "PGPASSWORD": self.password}
        result = subprocess.run(cmd, input=sql, capture_output=True, text=True, env=env, timeout=60)
        if result.returncode != 0:
            raise EmbeddedServiceError(f"psql exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str, template: str | None = None) -> None:
        sql = f'CREATE DATABASE "{_check_identifier(name)}"'
        if template is not None:
            sql += f' TEMPLATE "{_check_identifier(template)}"'
        self.psql(sql)

    def drop_database(self, name: str) -> None:
        # FORCE (PostgreSQL 13+) ends lingering test connections instead of failing on them.
        force = " WITH (FORCE)" if self._major_version() >= 13 else ""
        self.psql(f'DROP DATABASE IF EXISTS "{_check_identifier(name)}"{force}')

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _major_version(self) -> int:
        return int((self.data_dir / "PG_VERSION").read_text().strip().split(".")[0])

    def _subprocess_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.update(cwd="/", env=_clean_env())
        if "input" not in kwargs:
            kwargs["stdin"] = subprocess.DEVNULL
        if self._run_as is not None:
            # Popen(user=...) rather than `runuser`: the child *is* the postmaster, so pid and
            # kill() address the server itself, not a wrapper that may not forward signals.
            kwargs.update(user=self._run_as.pw_uid, group=self._run_as.pw_gid, extra_groups=[])
        return kwargs

    def _run(self, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        return subprocess.run(cmd, **self._subprocess_kwargs(**kwargs))

    def _chown(self, path: Path) -> None:
        if self._run_as is None or path.stat().st_uid == self._run_as.pw_uid:
            return
        uid, gid = self._run_as.pw_uid, self._run_as.pw_gid
        os.chown(path, uid, gid)
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)

    def _prepare_dirs(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if self._run_as is None:
            return
        self._chown(self.data_dir)
        for parent in self.data_dir.parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                # Search permission only (no listing) so the server account can reach its data.
                log.info("adding o+x to %s for user %s", parent, self._run_as.pw_name)
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def _initdb(self) -> None:
        cmd = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres"]
        cmd += ["--auth=trust", "--encoding=UTF8"]
        for locale in ("C.UTF-8", "C"):
            kwargs = self._subprocess_kwargs(capture_output=True, text=True, timeout=120)
            result = subprocess.run([*cmd, f"--locale={locale}"], **kwargs)
            with self.log_path.open("a", encoding="utf-8") as log_file:
                log_file.write(result.stdout + result.stderr)
            if result.returncode == 0:
                return
            if "locale" not in result.stderr.lower():
                break
            log.info("initdb rejected locale %s; retrying with C", locale)
        raise StartupFailed.from_log(
            "initdb", f"exited with code {result.returncode}", self.log_path
        )

    def _pidfile_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return []

    def _running_postmaster(self) -> int | None:
        """The pid of a server running on ``data_dir`` according to its ``postmaster.pid``."""
        lines = self._pidfile_lines()
        pid = int(lines[0]) if lines and lines[0].strip().isdigit() else 0
        # A live pid that is not a postgres process is a recycled pid (e.g. after a container
        # restart), which PostgreSQL itself would wrongly take for a running server.
        if pid and _procfs.alive(pid) and _procfs.command_name(pid) in ("postgres", "postmaster"):
            return pid
        return None

    def _clear_stale_pidfile(self) -> None:
        lines = self._pidfile_lines()
        if not lines:
            return
        if (pid := self._running_postmaster()) is not None:
            raise StartupFailed.from_log(
                "postgres", f"already running on {self.data_dir} as pid {pid}", self.log_path
            )
        # Line 7 is "shm-key shmid": if orphaned backends still hold that segment, leave the
        # file so PostgreSQL's own interlock reports them instead of two servers sharing data.
        shm = lines[6].split() if len(lines) > 6 else []
        if len(shm) == 2 and shm[1].isdigit() and _procfs.sysv_shm_attached(int(shm[1])):
            return
        pidfile = self.data_dir / "postmaster.pid"
        log.warning("removing stale %s (pid %s is not a running server)", pidfile, lines[0])
        pidfile.unlink()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        proc = self._proc
        assert proc is not None

        def alive() -> bool:
            return proc.poll() is None

        wait_for_port(HOST, self._port, START_TIMEOUT_S, "postgres", self.log_path, alive)
        # Listening is not serving: crash recovery answers "the database system is starting up".
        while True:
            try:
                self.psql("SELECT 1")
                return
            except (EmbeddedServiceError, subprocess.TimeoutExpired) as exc:
                if not alive() or time.monotonic() > deadline:
                    raise StartupFailed.from_log(
                        "postgres", f"not serving SQL: {exc}", self.log_path
                    ) from exc
            time.sleep(0.1)

    def _cleanup(self) -> None:
        atexit.unregister(self.stop)
        if self._proc is not None:
            watchdog.forget(self._proc.pid)
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
