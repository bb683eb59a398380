"""The demo's fixed ports, its settings file and its backfill state, without running a demo:
real sockets, real files, the real `cityvitals` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityvitals.demo_files import (
    BackfillState,
    read_backfill_state,
    write_backfill_state,
    write_settings_file,
)
from cityvitals.embedded.errors import StartupFailed
from cityvitals.embedded.ports import choose_port
from cityvitals.settings import load_settings


def _listening() -> socket.socket:
    return socket.create_server(("127.0.0.1", 0))


def test_a_free_port_is_kept_and_a_busy_one_moves_up_and_says_so() -> None:
    with _listening() as held:
        port = held.getsockname()[1]
        moved = choose_port("gateway", port)
    assert moved.moved
    assert moved.port > port
    assert moved.note() == f"gateway: port {port} busy: using {moved.port}"
    # Once nothing listens there, the usual port is the one chosen again.
    kept = choose_port("gateway", port)
    assert (kept.port, kept.moved) == (port, False)


def test_when_every_port_tried_is_busy_the_error_names_the_service_and_range() -> None:
    with _listening() as held:
        port = held.getsockname()[1]
        with pytest.raises(StartupFailed, match=rf"mosquitto: ports {port} to {port} are all busy"):
            choose_port("mosquitto", port, tries=1)


def test_the_settings_file_is_private_and_loads(tmp_path: Path) -> None:
    path = write_settings_file(
        tmp_path,
        {
            "database_url": "postgresql://postgres:s3cret@127.0.0.1:15432/cityvitals",
            "mqtt_url": "mqtt://cityvitals-simulator:pw@127.0.0.1:11883",
            "gateway": {"port": 8081},
        },
    )
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert f"export CITYVITALS_CONFIG={path}" in path.read_text()
    settings = load_settings(path)
    assert settings.gateway.port == 8081
    assert settings.database_url.endswith("@127.0.0.1:15432/cityvitals")


def test_backfill_state_goes_from_filling_to_done(tmp_path: Path) -> None:
    assert read_backfill_state(tmp_path) is None
    now = datetime.now(UTC)
    filling = BackfillState.filling(now - timedelta(hours=6), now)
    write_backfill_state(tmp_path, filling)
    assert read_backfill_state(tmp_path) == filling
    done = filling.done(now + timedelta(seconds=40))
    write_backfill_state(tmp_path, done)
    read = read_backfill_state(tmp_path)
    assert read is not None
    assert (read.state, read.since, read.done_at) == ("done", filling.since, done.done_at)
    assert [p.name for p in tmp_path.iterdir()] == ["backfill.json"]  # no partial file left


def test_a_bad_gateway_port_variable_stops_the_demo_naming_it(tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "cityvitals.cli", "demo", "--data-dir", str(tmp_path / "demo")],
        env={**os.environ, "CITYVITALS_GATEWAY__PORT": "80a"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert demo.returncode == 1
    assert "CITYVITALS_GATEWAY__PORT: '80a' is not a port (1 to 65535)" in demo.stderr
    assert "Traceback" not in demo.stderr
