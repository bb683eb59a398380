"""A watchdog process that stops our servers when the process that started them dies first.

The servers run in sessions of their own, so that Ctrl-C in a terminal reaches only the process
that owns them, which then stops them in order. If that owner is killed instead (SIGKILL, the OOM
killer, a crash), nothing in it runs any more and the servers would stay up, holding their ports
and data directories. So the first server a process starts also starts this watchdog: a small
child reading a pipe whose write end only the owner holds. However the owner dies, the kernel
closes that end; the watchdog reads end-of-file and stops every server still registered with it
the orderly way (PostgreSQL: fast shutdown; Mosquitto: SIGTERM, which saves its database),
SIGKILLing whatever is still up after 30 s. A clean stop unregisters the server first.

Why not PR_SET_PDEATHSIG in each server (via preexec_fn): it fires when the *thread* that forked
the server exits, not the process (the demo starts its servers from worker threads, and a test's
worker threads end with its event loop); it needs preexec_fn, which is unsafe in a process with
threads; and it sends one fixed signal to the postmaster only, with no fallback when that signal
does not stop it. A watchdog killed together with its owner (`kill -9 -PGID`) leaves the servers
behind: the next owner of the directory finds them (``EmbeddedPostgres.stop_leftover``).

Protocol, one line per message on the watchdog's stdin::

    watch <pid> <start time> <signal number> <name>
    forget <pid>
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO

from cityvitals.embedded import _procfs

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 30.0


def watch(pid: int, stop_signal: signal.Signals, name: str) -> None:
    """Have ``pid`` (a server we just started) stopped with ``stop_signal`` if we die first."""
    started = _procfs.start_time(pid)
    if started is not None:
        _Owner.for_this_process().send(f"watch {pid} {started} {int(stop_signal)} {name}")


def forget(pid: int) -> None:
    """``pid`` is stopped (or no longer ours to stop)."""
    owner = _Owner.current
    if owner is not None and owner.alive_here():
        owner.send(f"forget {pid}")


class _Owner:
    """This process's end of the pipe to its watchdog; one watchdog per process."""

    current: _Owner | None = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        self.pid = os.getpid()
        # stdout to /dev/null; stderr inherited, for its one line when it stops something.
        self._process = subprocess.Popen(
            # Not `-m cityvitals.embedded.watchdog`: the package imports this module first.
            [sys.executable, "-c", "from cityvitals.embedded.watchdog import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdin is not None
        self._pipe: IO[str] = self._process.stdin
        self._write_lock = threading.Lock()

    @classmethod
    def for_this_process(cls) -> _Owner:
        with cls._create_lock:
            # A forked child inherits `current` but is not the watchdog's owner: it gets its own.
            if cls.current is None or not cls.current.alive_here():
                cls.current = cls()
            return cls.current

    def alive_here(self) -> bool:
        return self.pid == os.getpid() and self._process.poll() is None

    def send(self, message: str) -> None:
        with self._write_lock:
            try:
                self._pipe.write(message + "\n")
                self._pipe.flush()
            except (BrokenPipeError, ValueError):
                log.warning("the server watchdog (pid %d) is gone", self._process.pid)


@dataclass(frozen=True)
class _Watched:
    start_time: int
    stop_signal: int
    name: str


def _read_until_owner_dies(pipe: IO[str]) -> dict[int, _Watched]:
    watched: dict[int, _Watched] = {}
    for line in pipe:  # ends when the owner's end closes: at its exit, however it exits
        match line.split():
            case ["watch", pid, started, stop_signal, *name]:
                watched[int(pid)] = _Watched(int(started), int(stop_signal), " ".join(name))
            case ["forget", pid]:
                watched.pop(int(pid), None)
    return watched


def _stop_orphans(watched: dict[int, _Watched]) -> None:
    # The start time tells our server from an unrelated process that got its pid since.
    orphans = {p: w for p, w in watched.items() if _procfs.start_time(p) == w.start_time}
    for pid, server in orphans.items():
        print(
            f"cityvitals watchdog: {server.name} (pid {pid}) outlived the process that started "
            "it; stopping it",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, server.stop_signal)
    if not _procfs.wait_gone(orphans, STOP_TIMEOUT_S):
        for pid in orphans:
            if _procfs.alive(pid):
                _procfs.kill_tree(pid, STOP_TIMEOUT_S)


def main() -> None:
    # Ctrl-C, a closed terminal or a group-wide SIGTERM reach the owner, which stops the servers
    # itself; the watchdog acts only on the owner's death, which the pipe reports.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    _stop_orphans(_read_until_owner_dies(sys.stdin))
