"""Two workers on one host: the second serves its metrics on the next free port, and says so."""

from __future__ import annotations

import logging
import socket
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from cityvitals.embedded import free_port
from cityvitals.metrics_server import MetricsPortsTaken, serve_metrics
from cityvitals.settings import load_settings


def _registry(name: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter(name, "a counter of one worker", registry=registry).inc(3)
    return registry


def _scrape(host: str, port: int) -> str:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def test_a_taken_port_moves_the_second_worker_to_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    first = serve_metrics(_registry("worker_one"), "127.0.0.1", port, "ingest.metrics_port")
    with caplog.at_level(logging.INFO, logger="cityvitals.metrics_server"):
        second = serve_metrics(_registry("worker_two"), "127.0.0.1", port, "ingest.metrics_port")
    assert first == port
    assert second is not None
    assert second > port
    assert "worker_one_total 3.0" in _scrape("127.0.0.1", port)
    assert "worker_two_total 3.0" in _scrape("127.0.0.1", second)
    moved = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(moved) == 1
    assert f"ingest.metrics_port {port} is taken" in moved[0]
    assert f"127.0.0.1:{second}/metrics" in moved[0]


def test_metrics_bind_the_configured_host_only() -> None:
    port = serve_metrics(_registry("loopback_only"), "127.0.0.1", free_port(), "x.metrics_port")
    assert port is not None
    assert "loopback_only_total" in _scrape("127.0.0.1", port)
    # Another address of this host (all of 127/8 is loopback on Linux) finds nothing there,
    # as an outside address would: not bound to every interface.
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port)):
        pass


def test_zero_turns_metrics_off_and_a_full_range_is_a_clear_error() -> None:
    assert serve_metrics(_registry("off"), "127.0.0.1", 0, "alerts.metrics_port") is None
    with pytest.raises(MetricsPortsTaken, match=r"alerts\.metrics_port: cannot serve on"):
        serve_metrics(_registry("bad_host"), "203.0.113.9", free_port(), "alerts.metrics_port")


def test_by_default_ingest_and_alerts_metrics_stay_on_loopback() -> None:
    settings = load_settings()
    for setting, host in (
        ("ingest", settings.ingest.metrics_host),
        ("alerts", settings.alerts.metrics_host),
    ):
        port = serve_metrics(_registry(f"{setting}_default"), host, free_port(), setting)
        assert port is not None
        assert f"{setting}_default_total" in _scrape("127.0.0.1", port)
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port)):
            pass
