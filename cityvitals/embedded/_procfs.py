"""Linux process-table helpers for stopping servers the way a crash or an operator would."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

from cityvitals.embedded.errors import EmbeddedServiceError


def _stat_fields(pid: int | str) -> list[str] | None:
    try:
        # The command name (field 2) may contain spaces and parentheses; split after the last ")".
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """True unless ``pid`` is gone or a zombie (which holds no memory, files or sockets)."""
    fields = _stat_fields(pid)
    if fields is not None:
        return fields[0] != "Z"
    if Path("/proc/self").exists():
        return False
    # No /proc (not Linux): signal 0 is the fallback, blind to zombies.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/PID/stat`` field 22); None if it
    is gone. With the pid it names one process: a recycled pid has another start time."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat_fields(entry.name)
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def sysv_shm_attached(shmid: int) -> bool:
    """True if the System V shared memory segment ``shmid`` still has processes attached."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return False
    # Columns: key shmid perms size cpid lpid nattch ...
    return any(int(r.split()[1]) == shmid and int(r.split()[6]) > 0 for r in rows)


def wait_gone(pids: Iterable[int], timeout_s: float) -> bool:
    """Wait until none of ``pids`` runs (zombies count as gone); False if the deadline passed."""
    pids = list(pids)
    deadline = time.monotonic() + timeout_s
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stop(pid: int, stop_signal: int, timeout_s: float) -> None:
    """Ask ``pid`` to stop with ``stop_signal`` and wait; SIGKILL it and its children if it is
    still running after ``timeout_s``. For processes that are not our children (no wait())."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, stop_signal)
    if not wait_gone([pid], timeout_s):
        kill_tree(pid, timeout_s)


def kill_tree(pid: int, timeout_s: float) -> None:
    """SIGKILL ``pid`` and its direct children, then wait until none of them is running.

    PostgreSQL backends call setsid(), so a process-group kill would miss them; after the
    postmaster dies they would linger as orphans holding its shared memory.
    """
    victims = [pid, *children(pid)]
    for victim in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    # Our own child becomes a zombie until the caller reaps it; alive() treats that as gone.
    if not wait_gone(victims, timeout_s):
        raise EmbeddedServiceError(f"processes {victims} survived SIGKILL")
