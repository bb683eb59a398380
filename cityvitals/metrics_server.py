"""Serving a service's Prometheus metrics, on a port that two workers on one host can share.

Two ingest workers (or two alert engines) on one host start with the same default port. The
second must neither die of EADDRINUSE nor go unobserved: it takes the next free port of a small
range and says so in one line, and `/metrics` binds the configured host (loopback by default),
not every interface.
"""

from __future__ import annotations

import errno
import logging

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger(__name__)

PORTS_TRIED = 10  # the configured port and the next nine


class MetricsPortsTaken(Exception):
    """No port of the range was free; names the setting to change."""


def serve_metrics(registry: CollectorRegistry, host: str, port: int, setting: str) -> int | None:
    """Serve `registry` on `host`:`port`, or the next free port; returns the port, or None
    when `port` is 0 (metrics off). `setting`: the setting's name, for the messages."""
    if port == 0:
        return None
    for candidate in range(port, min(port + PORTS_TRIED, 65_536)):
        try:
            start_http_server(candidate, addr=host, registry=registry)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise MetricsPortsTaken(
                    f"{setting}: cannot serve on {host}:{port}: {error}"
                ) from error
            continue
        if candidate != port:
            log.warning(
                "%s %d is taken on %s (another worker on this host?): metrics on %s:%d/metrics "
                "instead; give each worker its own port to scrape it reliably",
                setting,
                port,
                host,
                host,
                candidate,
            )
        else:
            log.info("metrics on %s:%d/metrics", host, candidate)
        return candidate
    last = min(port + PORTS_TRIED, 65_536) - 1
    raise MetricsPortsTaken(f"{setting}: ports {port}-{last} on {host} are all taken")
