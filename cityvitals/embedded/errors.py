"""Exceptions raised by the embedded service launcher.

Hierarchy::

    EmbeddedServiceError          anything the launcher cannot do
    ├── BinaryNotFound            server binaries are missing; the message says how to install them
    ├── StartupFailed             the process exited or never became ready; the message names
    │                             the service and its log file and carries the log's last lines
    └── DirectoryInUse            another live process owns the servers' directory
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

LOG_TAIL_LINES = 20


class EmbeddedServiceError(Exception):
    """Base class for failures of the embedded PostgreSQL / Mosquitto launcher."""


class BinaryNotFound(EmbeddedServiceError):
    """The server binaries could not be located."""


class StartupFailed(EmbeddedServiceError):
    """The server process died or did not accept connections in time."""

    @classmethod
    def from_log(cls, service: str, reason: str, log_path: Path | None) -> StartupFailed:
        # A classmethod instead of a custom __init__ keeps the exception picklable
        # (pytest-xdist and multiprocessing re-create exceptions from ``args``).
        if log_path is None:
            return cls(f"{service}: {reason}")
        return cls(
            f"{service}: {reason} (log: {log_path})\n"
            f"--- last {LOG_TAIL_LINES} lines of {log_path} ---\n{log_tail(log_path)}"
        )


class DirectoryInUse(EmbeddedServiceError):
    """Another process runs the servers of this directory (see ``EmbeddedStack``)."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of ``path``, or a note if it cannot be read."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines)).rstrip("\n")
    except OSError as exc:
        return f"<log unavailable: {exc}>"
