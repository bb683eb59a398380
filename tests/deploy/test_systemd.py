"""The systemd units of deploy/systemd/ (README: "Running it yourself on one host") run real
`cityvitals` commands with real settings, stop no sooner than the service can, and pass
`systemd-analyze verify` where it is installed.

Units are read with a small parser of their own: systemd repeats keys (Environment=,
EnvironmentFile=), which configparser would fold into the last one. Each unit's environment is
what systemd would give it: its EnvironmentFile=s (the `.example` files shipped here stand for
/etc/cityvitals/*.env) then its Environment= lines, with the specifiers %i and %H expanded; it
is loaded through `cityvitals.settings.load_settings`, so a misspelt or invalid setting fails.
"""

from __future__ import annotations

import inspect
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel

from cityvitals.services import gateway_server
from cityvitals.settings import CONFIG_ENV, ENV_PREFIX, Settings, load_settings
from tests.deploy.secured_broker import DEPLOY

SYSTEMD = DEPLOY / "systemd"
README = DEPLOY.parent / "README.md"
INSTALLED_AT = "/opt/cityvitals/bin/cityvitals"  # where README's install puts the command
ETC = "/etc/cityvitals/"
CITYVITALS = Path(sys.executable).parent / "cityvitals"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
INGEST = "cityvitals-ingest@.service"
# The instances README starts; a template is checked once per instance.
INSTANCES = {INGEST: ("1", "2")}


@dataclass(frozen=True)
class Unit:
    name: str
    entries: list[tuple[str, str, str]]  # (section, key, value), in file order

    def all(self, section: str, key: str) -> list[str]:
        return [v for s, k, v in self.entries if (s, k) == (section, key)]

    def one(self, section: str, key: str) -> str:
        [value] = self.all(section, key)
        return value


def parse_unit(path: Path) -> Unit:
    entries, section = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return Unit(path.name, entries)


def expand(value: str, instance: str) -> str:
    """The systemd specifiers the units use."""
    return value.replace("%i", instance).replace("%H", socket.gethostname())


def environment_of(unit: Unit, instance: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for file in unit.all("Service", "EnvironmentFile"):
        optional = file.startswith("-")
        path = expand(file.lstrip("-"), instance)  # ingest-%i.env: one file per worker
        assert path.startswith(ETC), f"{unit.name}: {file} is not under {ETC}"
        example = SYSTEMD / f"{Path(path).name}.example"
        if optional and not example.exists():
            continue
        assert example.exists(), f"{unit.name}: no {example.name} for {file}"
        for line in example.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, value = line.partition("=")
                env[name] = value
    for assignment in unit.all("Service", "Environment"):
        name, _, value = expand(assignment, instance).partition("=")
        env[name] = value
    return env


def is_setting(variable: str) -> bool:
    """CITYVITALS_INGEST__CLIENT_ID -> Settings.ingest.client_id exists."""
    model: type[BaseModel] = Settings
    parts = variable.removeprefix(ENV_PREFIX).lower().split("__")
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if depth < len(parts) - 1:
            nested = field.annotation
            if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
                return False
            model = nested
    return True


def settings_of(
    unit: Unit, instance: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The unit's settings; files under /etc/cityvitals/ become empty files in tmp_path (the
    settings check only that they exist)."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    env = environment_of(unit, instance)
    for name, value in env.items():
        assert name.startswith(ENV_PREFIX), f"{unit.name}: {name} is not a CityVitals setting"
        assert name == CONFIG_ENV or is_setting(name), f"{unit.name}: {name} names no setting"
        if value.startswith(ETC):
            stand_in = tmp_path / value.removeprefix(ETC)
            stand_in.touch()
            value = str(stand_in)
        monkeypatch.setenv(name, value)
    return load_settings()


def seconds(value: str) -> float:
    """A systemd time span as the units write it: 60, 60s, 2min, 1min 30s."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert parts, f"not a time span: {value!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def command_of(unit: Unit) -> list[str]:
    argv = shlex.split(unit.one("Service", "ExecStart"))
    assert argv[0] == INSTALLED_AT, f"{unit.name}: runs {argv[0]}, not {INSTALLED_AT}"
    return argv[1:]


def test_every_unit_is_here() -> None:
    expected = {"cityvitals-alerts", "cityvitals-gateway", "cityvitals-ingest@"}
    assert expected <= {name.removesuffix(".service") for name in UNITS}


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_an_existing_cityvitals_command(name: str) -> None:
    words = command_of(parse_unit(SYSTEMD / name))
    shown = subprocess.run(
        [str(CITYVITALS), *words, "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert f"usage: cityvitals {' '.join(words)}" in shown.stdout.lower(), shown.stdout


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_unprivileged_restarts_on_failure_and_stops_with_sigterm(
    name: str,
) -> None:
    unit = parse_unit(SYSTEMD / name)
    assert unit.one("Service", "User") not in ("", "root", "0")
    assert unit.one("Service", "Restart") == "on-failure"
    assert unit.one("Service", "KillSignal") == "SIGTERM"
    assert f"{ETC}cityvitals.env" in unit.all("Service", "EnvironmentFile")


@pytest.mark.parametrize(
    ("name", "instance"),
    [(name, instance) for name in UNITS for instance in INSTANCES.get(name, ("",))],
)
def test_each_units_environment_is_real_settings(
    name: str, instance: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(parse_unit(SYSTEMD / name), instance, tmp_path, monkeypatch)
    assert settings.inventory_path is not None  # README: the inventory is required
    if name == INGEST:
        assert settings.ingest.client_id == f"cityvitals-ingest-{instance}"
        assert settings.ingest.shared_group is not None
        # The broker makes a client's id its account's name (use_username_as_clientid): each
        # worker's account is named like its client id, or its session lives under another.
        assert urlsplit(settings.mqtt_url).username == settings.ingest.client_id


def test_two_ingest_workers_and_the_engine_have_their_own_ids_and_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = parse_unit(SYSTEMD / INGEST)
    workers = [settings_of(ingest, i, tmp_path, monkeypatch).ingest for i in INSTANCES[INGEST]]
    engine = settings_of(parse_unit(SYSTEMD / "cityvitals-alerts.service"), "", tmp_path,
                         monkeypatch).alerts  # fmt: skip
    assert len({w.client_id for w in workers}) == len(workers)
    ports = [w.metrics_port for w in workers] + [engine.metrics_port]
    assert len(set(ports)) == len(ports)


def test_the_stop_timeouts_outlast_the_services_own_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = parse_unit(SYSTEMD / INGEST)
    drain = settings_of(ingest, "1", tmp_path, monkeypatch).ingest.drain_timeout
    assert seconds(ingest.one("Service", "TimeoutStopSec")) > drain
    gateway = parse_unit(SYSTEMD / "cityvitals-gateway.service")
    graceful = inspect.signature(gateway_server).parameters["graceful_s"].default
    assert seconds(gateway.one("Service", "TimeoutStopSec")) > graceful


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Running it yourself on one host\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_section_names_real_settings_and_commands() -> None:
    section = readme_section()
    variables = set(re.findall(r"CITYVITALS_[A-Z0-9_]+", section))
    assert variables, "the section names no setting"
    assert [v for v in sorted(variables) if not is_setting(v)] == []
    commands = {
        c.strip() for c in re.findall(r"(?:`|/bin/)cityvitals((?: [a-z][a-z-]*)+)", section)
    }
    assert {"db migrate", "db maintain", "ingest", "alerts", "gateway"} <= commands
    for words in sorted(commands):
        shown = subprocess.run([str(CITYVITALS), *words.split(), "--help"], capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert shown.returncode == 0, f"cityvitals {words}: {shown.stderr}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    # The units name the installed command; verify checks it is executable, so point the copies
    # at this checkout's (and nothing else changes).
    names = []
    for name in UNITS:
        text = (SYSTEMD / name).read_text(encoding="utf-8")
        assert INSTALLED_AT in text
        (tmp_path / name).write_text(text.replace(INSTALLED_AT, str(CITYVITALS)))
        stem = name.removesuffix(".service")
        names += [f"{stem}{i}.service" for i in INSTANCES[name]] if name in INSTANCES else [name]
    checked = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr
