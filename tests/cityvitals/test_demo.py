"""`cityvitals demo` starts its own servers, stops cleanly on Ctrl-C, and keeps its data."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from cityvitals.embedded import EmbeddedPostgres
from schemas.topics import telemetry_topic
from tests.ingest.traffic import publish

CLI = [sys.executable, "-m", "cityvitals.cli"]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="cv-test-demo-"))
    base.chmod(0o755)
    yield base / "demo"
    shutil.rmtree(base, ignore_errors=True)


def _start(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "demo", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_line(process: subprocess.Popen[str], needle: str) -> list[str]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"demo exited before printing {needle!r}:\n{''.join(lines)}")


def test_demo_runs_stops_on_ctrl_c_and_keeps_data(data_dir: Path) -> None:
    first = _start(data_dir, "--duration", "1")
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 0, output
    assert "applied migrations on postgres" in output
    assert "CityVitals demo is running" in output
    assert "sensors     48" in output

    # Something stored between runs must still be there in the next run.
    postgres = EmbeddedPostgres(data_dir / "postgres")
    postgres.start()
    postgres.psql("INSERT INTO readings VALUES (now(), 1, 1, 0.3)", dbname="cityvitals")
    postgres.stop()

    second = _start(data_dir)
    lines = _wait_for_line(second, "readings ")
    # The demo's own ingest stores what a device publishes to the demo's broker.
    broker = next(line.split()[1] for line in lines if line.strip().startswith("broker"))
    body = orjson.dumps({"ts": int(time.time() * 1000), "metrics": {"pressure": 0.31}})
    asyncio.run(
        publish(broker, [(telemetry_topic("water", "changbai_xincun", "yp-wp-0003"), body)])
    )
    lines += _wait_for_line(second, "readings          2")
    second.send_signal(signal.SIGINT)
    rest, _ = second.communicate(timeout=60)
    output = "".join(lines) + rest
    assert second.returncode == 0, output
    assert "applied migrations" not in output
    assert "readings          1" in output
    assert "readings          2" in output
    assert "demo stopped; data kept in" in output
    # Nothing left running: the data directory can be opened again at once.
    again = EmbeddedPostgres(data_dir / "postgres")
    again.start()
    again.stop()
