"""`cityvitals demo`: its own servers, a simulated city in every domain, kept data, servers
that let in only the demo's own accounts, and every way of stopping it.

The smoke test CI runs: about 30 s of the demo, then the data is checked; the second run's
console, opened in headless chromium, shows the city with live figures. Then the stops: Ctrl-C,
SIGTERM, SIGHUP and a closed terminal stop the servers with the demo; a killed demo's servers are
stopped by their watchdog, or, if that was killed too, by the next run, which says so in one line.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
import pytest

from cityvitals.embedded import timescaledb_available
from cityvitals.embedded._procfs import alive, wait_gone
from ingest.transport.client import MqttClient, MqttError
from schemas.topics import telemetry_topic
from tests.cityvitals.demo_console import open_wall
from tests.cityvitals.demo_process import (
    CLI,
    DOMAIN_COUNTS,
    GUARD_S,
    STOPPED,
    UP,
    Demo,
    _console,
    _database_url,
    _device_url,
    _line,
    _moved,
    _query,
    _quiet,
    _server_pids,
    _shell_env,
    _until_stored,
)
from tests.ingest.traffic import publish


@pytest.fixture
def data_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="cv-test-demo-"))
    base.chmod(0o755)
    yield base / "demo"
    shutil.rmtree(base, ignore_errors=True)


def test_demo_fills_every_domain_stops_on_ctrl_c_and_keeps_data(data_dir: Path) -> None:
    first = Demo(data_dir, "--sensors", "400", "--duration", "30")
    output = first.wait_exit()
    assert first.process.returncode == 0, output
    lines = output.splitlines(keepends=True)
    console, earlier = _console(lines), _line(lines, "operator")
    # What used to fill the terminal is in the log file the banner names.
    log_file = Path(_line(lines, "log"))
    assert "applied migrations on" in log_file.read_text()
    _quiet(output)
    assert "CityVitals demo is running" in output
    assert "filling the last 6 h of history at full speed, the first run" in output
    # The banner says which backend it runs on: TimescaleDB wherever it is installed.
    expected = "storage   TimescaleDB" if timescaledb_available() else "storage   plain PostgreSQL"
    assert expected in output
    assert STOPPED in output
    per_domain = dict(
        line.split("|") for line in _query(data_dir, DOMAIN_COUNTS).split() if "|" in line
    )
    assert set(per_domain) == {"buildings", "parking", "power", "water", "environment"}
    assert all(int(count) > 0 for count in per_domain.values())
    stored = int(_query(data_dir, "SELECT count(*) FROM readings").strip())
    # The alert engine ran along: it held the lead and recorded its ticks.
    engine = _query(data_dir, "SELECT leader, last_tick_at IS NOT NULL FROM alert_engines")
    assert engine.split() == ["t|t"]

    second = Demo(data_dir, "--sensors", "400")
    lines = second.wait_for(UP)
    # Nothing was lost between the runs: the first summary already counts the earlier readings.
    first_count = int(lines[-1].split("readings")[1].split()[0])
    assert first_count >= stored
    # The same console URL as the first run's, unless its port was taken meanwhile (then the
    # banner says so: another test's demo may hold it).
    assert _console(lines) == console or _moved(lines, "gateway"), "".join(lines)
    assert "filling the last 1 h of history at full speed, since the last run" in "".join(lines)
    # The demo's ingest stores what any device publishes to the demo's broker.
    reading_ms = int(time.time() * 1000) - 1234
    body = orjson.dumps({"ts": reading_ms, "metrics": {"pressure": 0.421}})
    topic = telemetry_topic("water", "changbai_xincun", "yp-wp-0003")
    asyncio.run(publish(_device_url(lines), [(topic, body)]))
    # The gateway the banner names answers its health and readiness checks.
    gateway = _line(lines, "gateway")
    assert _console(lines) == f"{gateway}/console/"
    assert httpx.get(f"{gateway}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{gateway}/readyz", timeout=10).status_code == 200
    # This run's keys sign in, the operator's and the viewer's; the first run's no longer do.
    keys = {label: _line(lines, label) for label in ("operator", "viewer")}
    for key in (*keys.values(), earlier):
        answer = httpx.get(f"{gateway}/v1/alerts", headers={"X-API-Key": key}, timeout=10)
        assert answer.status_code == (401 if key == earlier else 200), answer.text
    # The banner's console URL in a browser, signed in with its viewer key: the city with live
    # figures (every subdistrict on the map, sensors online, a tile's figure), nothing asked
    # outside the gateway, the key in no URL.
    geography = httpx.get(
        f"{gateway}/v1/geography", headers={"X-API-Key": keys["viewer"]}, timeout=10
    ).json()
    codes = sorted(feature["id"] for feature in geography["subdistricts"]["features"])
    wall = asyncio.run(open_wall(_console(lines), keys["viewer"], len(codes)))
    assert sorted(item["name"] for item in wall.drawn) == codes
    assert any(item["online"] > 0 for item in wall.drawn), wall.drawn
    assert any(character.isdigit() for character in wall.figure), wall.figure
    assert wall.requests
    assert [url for url in wall.requests if not url.startswith(f"{gateway}/")] == []
    assert [url for url in wall.requests if keys["viewer"] in url] == []
    # Another shell, after the banner's export line: the commands reach this demo.
    env = _shell_env(lines)
    listed = subprocess.run([*CLI, "keys", "list"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert sorted(line.split()[1:3] for line in listed.stdout.splitlines()) == [
        ["operator", "demo-operator"],
        ["viewer", "demo-viewer"],
    ]
    alerts = subprocess.run([*CLI, "alerts", "list"], env=env, capture_output=True, text=True)
    assert alerts.returncode == 0, alerts.stderr
    # The history is filled: said on the terminal, in backfill.json and by /healthz (for the
    # console's wall).
    second.wait_for("history filled: 1 h in")
    assert httpx.get(f"{gateway}/healthz", timeout=10).json()["history"] == "done"
    backfill = orjson.loads((data_dir / "backfill.json").read_bytes())
    assert backfill["state"] == "done"
    assert backfill["done_at"] > backfill["started_at"]
    mine = (
        "SELECT r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id "
        f"WHERE s.external_id = 'yp-wp-0003' AND r.ts = to_timestamp({reading_ms} / 1000.0)"
    )
    asyncio.run(_until_stored(_database_url(lines), mine))
    output = second.stop(signal.SIGINT)
    assert second.process.returncode == 0, output
    assert "Traceback" not in output  # Ctrl-C: pools closed before PostgreSQL stopped
    # The requests above were logged, to the file only.
    assert '"GET /healthz HTTP/1.1" 200' in log_file.read_text()
    _quiet(output)
    assert "applied migrations" not in output
    assert STOPPED in output
    assert "0.421" in _query(data_dir, mine)  # 3 decimals: the precision stored


def test_the_demos_servers_let_in_only_its_accounts_and_it_prints_no_password(
    data_dir: Path,
) -> None:
    # The gateway's usual port is taken: the demo takes the next free one and says so. A
    # database URL exported for another platform does not lead the demo away from its own.
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        env = {
            "CITYVITALS_GATEWAY__PORT": str(busy),
            "CITYVITALS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/elsewhere",
        }
        demo = Demo(data_dir, "--sensors", "50", env=env)
        lines = demo.wait_for(UP)
    [moved] = _moved(lines, "gateway")
    found = re.search(rf"gateway: port {busy} busy: using (\d+)", moved)
    assert found, moved
    assert _console(lines) == f"http://127.0.0.1:{found.group(1)}/console/"
    assert httpx.get(_console(lines).replace("/console/", "/healthz"), timeout=10).is_success
    broker, device = _line(lines, "broker"), _device_url(lines)

    async def mqtt_connect(url: str) -> None:
        client = await MqttClient.connect(url, "cv-test-demo", on_publish=lambda _: None)
        await client.disconnect()

    # Neither an anonymous client (which could read city/# and leave a retained `offline` on
    # any sensor's status) nor a wrong password gets in; the banner's account does.
    with pytest.raises(MqttError, match="not authorized"):
        asyncio.run(mqtt_connect(broker))
    with pytest.raises(MqttError, match="not authorized"):
        asyncio.run(mqtt_connect(device.replace(f":{urlsplit(device).password}@", ":guess@")))
    asyncio.run(mqtt_connect(device))
    # PostgreSQL asks even a local client for the superuser's password.
    with pytest.raises(asyncpg.InvalidPasswordError):
        asyncio.run(asyncpg.connect(_line(lines, "database").replace(":***@", "@")))
    output = demo.stop(signal.SIGINT)
    assert demo.process.returncode == 0, output

    kept = [data_dir / "mosquitto" / "accounts", data_dir / "postgres.password"]
    assert [oct(path.stat().st_mode & 0o777) for path in kept] == ["0o600", "0o600"]
    passwords = [line.split(":", 1)[1] for line in kept[0].read_text().splitlines()]
    passwords.append(kept[1].read_text().strip())
    assert len(passwords) == 5  # the ingest's, gateway's, simulator's, device's; the database's
    assert [p for p in passwords if p in output] == []


def test_sigterm_stops_the_servers_and_the_next_start_starts(data_dir: Path) -> None:
    # Made on plain PostgreSQL, as every demo directory was before TimescaleDB came along.
    first = Demo(data_dir, "--sensors", "50", env={"CITYVITALS_STORAGE__BACKEND": "postgres"})
    first.wait_for(UP)
    servers = _server_pids(data_dir)
    # One demo per directory: a second is refused in one line and the first runs on.
    second = Demo(data_dir, "--sensors", "50")
    refused = second.wait_exit()
    assert second.process.returncode == 1, refused
    assert f"another process (pid {first.process.pid}) runs the servers in" in refused
    assert "Traceback" not in refused
    assert all(alive(pid) for pid in servers)

    output = first.stop(signal.SIGTERM)
    assert first.process.returncode == 0, output
    assert "Traceback" not in output
    assert STOPPED in output
    assert not any(alive(pid) for pid in servers)  # stopped before the demo exited

    again = Demo(data_dir, "--sensors", "50")
    lines = again.wait_for(UP)
    if timescaledb_available():
        # `auto` keeps the backend the directory's database was made with, and says why.
        storage = next(line for line in lines if line.strip().startswith("storage"))
        assert "plain PostgreSQL" in storage
        assert "keeps its layout, although TimescaleDB is installed now" in storage
    servers = _server_pids(data_dir)
    output = again.stop(signal.SIGHUP)
    assert again.process.returncode == 0, output
    assert "Traceback" not in output
    assert not any(alive(pid) for pid in servers)


def test_a_killed_demo_leaves_no_server_behind_for_long(data_dir: Path) -> None:
    killed = Demo(data_dir, "--sensors", "50")
    killed.wait_for(UP)
    servers = _server_pids(data_dir)
    killed.process.kill()
    # Their watchdog saw the demo die and stops them (its stderr is the demo's: the output ends
    # when the watchdog is done).
    output = killed.wait_exit()
    assert wait_gone(servers, GUARD_S), output
    assert output.count("outlived the process that started it; stopping it") == 2

    # A demo killed together with its watchdog (its whole process group) leaves them running...
    group = Demo(data_dir, "--sensors", "50", start_new_session=True)
    group.wait_for(UP)
    servers = _server_pids(data_dir)
    os.killpg(group.process.pid, signal.SIGKILL)
    group.wait_exit()
    assert all(alive(pid) for pid in servers)
    # ...and the next run stops them, says so in one line, and starts.
    lines = _run_in_a_terminal_then_close_it(data_dir)
    leftovers = [line for line in lines if "was killed and left" in line]
    assert len(leftovers) == 1, "".join(lines)
    assert f"PostgreSQL (pid {servers[0]}) and Mosquitto (pid {servers[1]})" in leftovers[0]
    assert not any(alive(pid) for pid in servers)
    assert "Traceback" not in "".join(lines)


def _run_in_a_terminal_then_close_it(data_dir: Path) -> list[str]:
    """Run the demo in a terminal of its own until it is up, then close the terminal: the demo
    must stop its servers (it gets SIGHUP, and its output has nowhere to go)."""
    terminal, demo_side = pty.openpty()
    # setsid -c: the demo leads a session whose controlling terminal is the pty, like a shell's.
    process = subprocess.Popen(
        ["setsid", "-c", *CLI, "demo", "--data-dir", str(data_dir), "--sensors", "50"],
        stdin=demo_side,
        stdout=demo_side,
        stderr=demo_side,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(demo_side)
    text, deadline = "", time.monotonic() + GUARD_S
    try:
        while UP not in text:
            ready, _, _ = select.select([terminal], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(terminal, 65536).decode(errors="replace") if ready else ""
            if not chunk:
                raise AssertionError(f"the demo did not print {UP!r}:\n{text}")
            text += chunk
        servers = _server_pids(data_dir)
    finally:
        os.close(terminal)  # the terminal goes away: the kernel hangs up its session
    process.wait(GUARD_S)
    assert process.returncode == 0, text  # stopped in order, not ended by SIGHUP's default
    assert not any(alive(pid) for pid in servers), text
    return text.splitlines(keepends=True)
