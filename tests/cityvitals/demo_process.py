"""Running `cityvitals demo` in tests: the process and its banner's lines, the servers it left,
queries against its database, and what its terminal may show (used by test_demo.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from cityvitals.embedded import EmbeddedStack
from tests.waiting import wait_until

CLI = [sys.executable, "-m", "cityvitals.cli"]
# Guards against a demo that hangs, not measurements: each wait ends as soon as its line comes.
GUARD_S = 180.0
DOMAIN_COUNTS = """
SELECT t.domain, count(*) FROM readings r
JOIN sensors s ON s.id = r.sensor_id JOIN sensor_types t ON t.id = s.sensor_type_id
GROUP BY t.domain ORDER BY t.domain
"""
UP = "readings "  # the first summary line: servers, ingest, engine and gateway all run
STOPPED = "demo stopped; data kept in"


class Demo:
    """A running `cityvitals demo`; a thread collects its output lines as they come."""

    def __init__(self, data_dir: Path, *extra: str, **popen: Any) -> None:
        self.process = subprocess.Popen(
            [*CLI, "demo", "--data-dir", str(data_dir), *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **popen.pop("env", {})},
            **popen,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, needle: str) -> list[str]:
        """The output up to the first line holding `needle`."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(needle in line for line in self.lines) or not self._reader.is_alive(),
                GUARD_S,
            )
            lines = list(self.lines)
        if not found or not any(needle in line for line in lines):
            raise AssertionError(f"the demo did not print {needle!r}:\n{''.join(lines)}")
        return lines

    def stop(self, sig: signal.Signals) -> str:
        """Send `sig`, wait until the demo has exited, return all it printed."""
        self.process.send_signal(sig)
        return self.wait_exit()

    def wait_exit(self) -> str:
        self.process.wait(GUARD_S)
        self._reader.join(GUARD_S)
        return self.output


def _line(lines: list[str], label: str) -> str:
    """The value of a banner line such as `  broker    mqtt://...`."""
    return next(line.split()[1] for line in lines if line.strip().startswith(label))


def _database_url(lines: list[str]) -> str:
    """The banner's database URL with the password from the file the banner names."""
    line = next(line for line in lines if line.strip().startswith("database"))
    found = re.search(r"password in (\S+);", line)
    assert found, line
    password = Path(found.group(1)).read_text().strip()
    return _line(lines, "database").replace(":***@", f":{password}@")


def _device_url(lines: list[str]) -> str:
    """The broker URL with the device account, as the banner's `device` line tells a person:
    its user, and the password its command reads from the accounts file (run as a shell would)."""
    line = next(line for line in lines if line.strip().startswith("device"))
    found = re.search(r' -u (\S+) -P "(\$\([^"]*\))"', line)
    assert found, line
    user, reading = found.groups()
    password = subprocess.run(
        ["sh", "-c", f'printf %s "{reading}"'], capture_output=True, text=True, check=True
    ).stdout
    assert password
    broker = urlsplit(_line(lines, "broker"))
    return f"mqtt://{user}:{password}@{broker.hostname}:{broker.port}"


def _server_pids(data_dir: Path) -> list[int]:
    """PostgreSQL's and Mosquitto's pids, from the pid files they keep while they run."""
    postmaster = (data_dir / "postgres" / "postmaster.pid").read_text().split()[0]
    broker = (data_dir / "mosquitto" / "mosquitto.pid").read_text().strip()
    return [int(postmaster), int(broker)]


def _query(data_dir: Path, sql: str) -> str:
    postgres = EmbeddedStack(data_dir).postgres  # started as the demo starts it
    postgres.start()
    try:
        return postgres.psql(sql, dbname="cityvitals")
    finally:
        postgres.stop()


async def _until_stored(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:

        async def stored() -> bool:
            return bool(await conn.fetchval(sql))

        await wait_until(stored, GUARD_S)
    finally:
        await conn.close()


def _console(lines: list[str]) -> str:
    """The console's URL: the banner's first line, the first line the demo prints."""
    assert lines[0].startswith("console   http://127.0.0.1:"), "".join(lines)
    url = lines[0].split()[1]
    assert url.endswith("/console/"), lines[0]
    return url


def _moved(lines: list[str], service: str) -> list[str]:
    return [line for line in lines if line.strip().startswith(f"ports     {service}: port")]


def _shell_env(lines: list[str]) -> dict[str, str]:
    """The environment of another shell after the one line the banner says to type there."""
    line = next(line for line in lines if line.strip().startswith("shell"))
    found = re.search(r"export (CITYVITALS_CONFIG)=(\S+)", line)
    assert found, line
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYVITALS_")}
    return {**env, found.group(1): found.group(2)}


def _quiet(output: str) -> None:
    """The terminal holds the banner, summaries and the duty officer's lines: no log chatter."""
    chatter = [line for line in output.splitlines() if re.search(r"\b(INFO|DEBUG)\b", line)]
    assert chatter == [], output
    assert "uvicorn" not in output
    assert "HTTP Request" not in output
