"""`cityvitals demo`: its own servers, a simulated city in all four domains, Ctrl-C, kept data.

The smoke test CI runs: about 30 s of the demo, then the data is checked.
"""

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

import httpx
import orjson
import pytest

from cityvitals.embedded import EmbeddedPostgres
from schemas.topics import telemetry_topic
from tests.ingest.traffic import publish

CLI = [sys.executable, "-m", "cityvitals.cli"]
DOMAIN_COUNTS = """
SELECT t.domain, count(*) FROM readings r
JOIN sensors s ON s.id = r.sensor_id JOIN sensor_types t ON t.id = s.sensor_type_id
GROUP BY t.domain ORDER BY t.domain
"""


@pytest.fixture
def data_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="cv-test-demo-"))
    base.chmod(0o755)
    yield base / "demo"
    shutil.rmtree(base, ignore_errors=True)


def _start(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "demo", "--data-dir", str(data_dir), "--sensors", "400", *extra],
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


def _query(data_dir: Path, sql: str) -> str:
    postgres = EmbeddedPostgres(data_dir / "postgres")
    postgres.start()
    try:
        return postgres.psql(sql, dbname="cityvitals")
    finally:
        postgres.stop()


def test_demo_fills_all_four_domains_stops_on_ctrl_c_and_keeps_data(data_dir: Path) -> None:
    first = _start(data_dir, "--duration", "30")
    output, _ = first.communicate(timeout=180)
    assert first.returncode == 0, output
    assert "applied migrations on postgres" in output
    assert "CityVitals demo is running" in output
    assert "demo stopped; data kept in" in output
    per_domain = dict(
        line.split("|") for line in _query(data_dir, DOMAIN_COUNTS).split() if "|" in line
    )
    assert set(per_domain) == {"buildings", "parking", "power", "water"}
    assert all(int(count) > 0 for count in per_domain.values())
    stored = int(_query(data_dir, "SELECT count(*) FROM readings").strip())
    # The alert engine ran along: it held the lead and recorded its ticks.
    engine = _query(data_dir, "SELECT leader, last_tick_at IS NOT NULL FROM alert_engines")
    assert engine.split() == ["t|t"]

    second = _start(data_dir)
    lines = _wait_for_line(second, "readings ")
    # Nothing was lost between the runs: the first summary already counts the earlier readings.
    first_count = int(lines[-1].split("readings")[1].split()[0])
    assert first_count >= stored
    # The demo's ingest stores what any device publishes to the demo's broker.
    broker = next(line.split()[1] for line in lines if line.strip().startswith("broker"))
    reading_ms = int(time.time() * 1000) - 1234
    body = orjson.dumps({"ts": reading_ms, "metrics": {"pressure": 0.4321}})
    topic = telemetry_topic("water", "changbai_xincun", "yp-wp-0003")
    asyncio.run(publish(broker, [(topic, body)]))
    # The gateway the banner names answers its health and readiness checks.
    gateway = next(line.split()[1] for line in lines if line.strip().startswith("gateway"))
    assert httpx.get(f"{gateway}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{gateway}/readyz", timeout=10).status_code == 200
    time.sleep(2)
    second.send_signal(signal.SIGINT)
    rest, _ = second.communicate(timeout=120)
    output = "".join(lines) + rest
    assert second.returncode == 0, output
    assert "applied migrations" not in output
    assert "demo stopped; data kept in" in output
    mine = _query(
        data_dir,
        "SELECT r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id "
        f"WHERE s.external_id = 'yp-wp-0003' AND r.ts = to_timestamp({reading_ms} / 1000.0)",
    )
    assert "0.4321" in mine
