"""TCP port helpers shared by the embedded services."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cityvitals.embedded.errors import StartupFailed

log = logging.getLogger(__name__)

_POLL_INTERVAL_S = 0.05


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port the kernel considers free on ``host``.

    The port is released before returning, so another process can grab it before the
    service binds it; the window is tiny because the kernel hands out ephemeral ports
    round-robin rather than reusing the one just closed.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class PortChoice:
    """The port a service asked for and the one it got: the same unless the first was busy."""

    service: str
    wanted: int
    port: int

    @property
    def moved(self) -> bool:
        return self.port != self.wanted

    def note(self) -> str:
        """What a person reads when the usual port was taken ("port 8080 busy: using 8081")."""
        return f"{self.service}: port {self.wanted} busy: using {self.port}"


def choose_port(service: str, wanted: int, host: str = "127.0.0.1", tries: int = 50) -> PortChoice:
    """``wanted`` if nothing listens on it, else the next port up that is free.

    The same port from one run to the next, so bookmarks and the commands a person typed keep
    working. The check binds with SO_REUSEADDR, as the servers do, so a port left in TIME_WAIT
    by the previous run still counts as free while one another program listens on does not.
    Like `free_port`, the port is released before returning: a program that binds it in between
    makes the service's start fail, naming the port.
    """
    for port in range(wanted, min(wanted + tries, 65_536)):
        if _bindable(host, port):
            return PortChoice(service, wanted, port)
    raise StartupFailed(f"{service}: ports {wanted} to {wanted + tries - 1} are all busy")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(
    host: str,
    port: int,
    timeout_s: float,
    service: str = "service",
    log_path: Path | None = None,
    is_alive: Callable[[], bool] | None = None,
) -> None:
    """Block until ``host:port`` accepts a TCP connection.

    Raises :class:`StartupFailed` (an ``EmbeddedServiceError``) naming ``service`` and
    ``log_path`` if the deadline passes, or as soon as ``is_alive`` reports that the
    process exited, so a broken config fails fast instead of after the full timeout.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if is_alive is not None and not is_alive():
            raise StartupFailed.from_log(
                service, f"process exited before listening on {host}:{port}", log_path
            )
        try:
            with socket.create_connection((host, port), timeout=1.0):
                log.debug("%s is listening on %s:%d", service, host, port)
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise StartupFailed.from_log(
                service, f"not listening on {host}:{port} after {timeout_s:g} s", log_path
            )
        time.sleep(_POLL_INTERVAL_S)
