"""deploy/docker-compose.yml: valid by the Compose Specification's schema, and everything it
names (commands, settings, ports, paths, images, variables) exists in the code or deploy/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cityvitals.settings import Settings
from tests.deploy.manifests import (
    COMPOSE,
    DEPLOY,
    IMAGE,
    compose,
    compose_variables,
    effective_settings,
    env_example,
    our_services,
    resolve_command,
)
from tests.deploy.secured_broker import SHIPPED_CONF

SPEC = compose()
SERVICES: dict[str, dict[str, Any]] = SPEC["services"]
OURS = our_services(SPEC)
SECRETS = DEPLOY / "secrets"  # made at deploy time, never in the repository


def test_the_compose_file_is_valid_by_the_compose_specification() -> None:
    # check-jsonschema's vendored copy of the compose-spec schema (what `docker compose
    # config` validates against); no Docker engine needed.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_variable_is_in_the_env_example_and_no_secret_is_committed() -> None:
    assert compose_variables() <= set(env_example()), "add them to deploy/.env.example"
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignored
    assert "secrets/" in ignored
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/secrets", "deploy/.env"],
        cwd=DEPLOY.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert tracked.stdout == ""


def test_the_stack_has_what_the_issue_asks_for() -> None:
    commands = {name: service["command"][0] for name, service in OURS.items()}
    assert sorted(n for n, c in commands.items() if c == "ingest") == ["ingest-1", "ingest-2"]
    assert sorted(n for n, c in commands.items() if c == "alerts") == ["alerts-1", "alerts-2"]
    assert [n for n, c in commands.items() if c == "gateway"] == ["gateway"]
    assert SERVICES["simulator"]["profiles"] == ["simulator"]
    assert {"timescaledb", "mosquitto", "grafana"} <= set(SERVICES)
    assert SERVICES["timescaledb"]["volumes"][0].startswith("pgdata:")
    assert "mosquitto-data:/mosquitto/data" in SERVICES["mosquitto"]["volumes"]


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_runs_a_real_command(name: str) -> None:
    resolve_command(OURS[name]["command"])


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Bind mounts: container path -> host path (named volumes are left out)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[target] = (DEPLOY / source).resolve()
    return mounts


def _files_seen(service: dict[str, Any], stand_ins: Path) -> dict[str, Path]:
    """Every file under each bind mount, by the path the container sees; deploy-time secrets
    (absent here by design) get stand-ins."""
    files = {}
    for target, source in _mounts(service).items():
        if source.is_relative_to(SECRETS):
            stand_in = stand_ins / source.relative_to(SECRETS)
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.touch()
            files[target] = stand_in
        elif source.is_file():
            files[target] = source
        else:
            for path in source.rglob("*"):
                files[f"{target}/{path.relative_to(source)}"] = path
    return files


def _settings(name: str, tmp_path: Path) -> Settings:
    service = OURS[name]
    return effective_settings(service["environment"], _files_seen(service, tmp_path))


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_settings_are_real_and_valid(name: str, tmp_path: Path) -> None:
    settings = _settings(name, tmp_path)  # every CITYVITALS_* names a setting; values valid
    database = urlsplit(settings.database_url)
    assert (database.hostname, database.port) == ("timescaledb", 5432)
    broker = urlsplit(settings.mqtt_url)
    assert (broker.scheme, broker.hostname, broker.port) == ("mqtts", "mosquitto", 8883)
    assert settings.mqtt_ca_file is not None


def test_ports_are_the_ones_the_settings_and_the_broker_use(tmp_path: Path) -> None:
    gateway = _settings("gateway", tmp_path).gateway
    assert gateway.host == "0.0.0.0"
    assert SERVICES["gateway"]["ports"] == [f"{gateway.port}:{gateway.port}"]
    for name, port in (
        ("gateway", gateway.port),
        ("ingest-1", _settings("ingest-1", tmp_path).ingest.metrics_port),
        ("alerts-1", _settings("alerts-1", tmp_path).alerts.metrics_port),
    ):
        probe = " ".join(SERVICES[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/" in probe, name
    assert "listener 8883" in SHIPPED_CONF.read_text().splitlines()
    assert SERVICES["mosquitto"]["ports"] == ["8883:8883"]


def test_the_ingest_workers_share_one_group_with_their_own_client_ids(tmp_path: Path) -> None:
    workers = [_settings(name, tmp_path) for name in ("ingest-1", "ingest-2")]
    assert workers[0].ingest.shared_group == workers[1].ingest.shared_group == "cityvitals"
    assert workers[0].ingest.client_id != workers[1].ingest.client_id
    engines = [_settings(name, tmp_path).alerts for name in ("alerts-1", "alerts-2")]
    assert engines[0].engine_name != engines[1].engine_name


def test_each_broker_client_logs_in_with_an_account_named_like_its_client_id(
    tmp_path: Path,
) -> None:
    # The broker makes every client's id its user name (use_username_as_clientid): a worker
    # whose account differs from its client id would keep its session under another name, and
    # two clients on one account would take each other's place.
    accounts = {n: urlsplit(_settings(n, tmp_path).mqtt_url).username for n in OURS}
    for worker in ("ingest-1", "ingest-2"):
        assert accounts[worker] == _settings(worker, tmp_path).ingest.client_id
    assert accounts["gateway"] == "cityvitals-gateway"
    assert accounts["simulator"] == "cityvitals-simulator"
    command = OURS["simulator"]["command"]
    assert command[command.index("--connections") + 1] == "1"
    connecting = [account for account in accounts.values() if account is not None]
    assert len(connecting) == len(set(connecting)), accounts  # never one account for two
    acl = (DEPLOY / "mosquitto" / "acl").read_text().splitlines()
    assert {f"user {a}" for a in connecting} <= set(acl)
    assert "use_username_as_clientid true" in SHIPPED_CONF.read_text().splitlines()


def test_every_mounted_path_exists_and_is_the_one_its_reader_expects() -> None:
    for name, service in SERVICES.items():
        for source in _mounts(service).values():
            assert source.exists() or source.is_relative_to(SECRETS), f"{name}: {source}"
        named = [v.split(":")[0] for v in service.get("volumes", []) if not v.startswith(".")]
        assert set(named) <= set(SPEC["volumes"]), name
    # The broker's own paths are the mosquitto service's mounts.
    mosquitto = {v.split(":")[1] for v in SERVICES["mosquitto"]["volumes"]}
    conf_paths = set(re.findall(r"(/mosquitto/\w+)/", SHIPPED_CONF.read_text()))
    assert conf_paths == mosquitto
    assert SERVICES["mosquitto"]["command"][-1] == "/mosquitto/config/mosquitto.conf"
    # Grafana: the provisioning folder and the dashboard folders its providers read.
    grafana = _mounts(SERVICES["grafana"])
    providers = (DEPLOY / "grafana/provisioning/dashboards/cityvitals.yaml").read_text()
    for path in re.findall(r"path: (\S+)", providers):
        assert path in grafana, path
        assert list(grafana[path].glob("*.json")), path
    assert "/etc/grafana/provisioning" in grafana


def test_grafana_gets_every_variable_its_data_source_reads() -> None:
    datasource = (DEPLOY / "grafana/provisioning/datasources/cityvitals.yaml").read_text()
    wanted = set(re.findall(r"\$\{(CITYVITALS_GRAFANA_DB_\w+)\}", datasource))
    given = {n for n in SERVICES["grafana"]["environment"] if n.startswith("CITYVITALS_")}
    assert wanted == given
    database = SERVICES["timescaledb"]["environment"]
    assert (
        SERVICES["grafana"]["environment"]["CITYVITALS_GRAFANA_DB_USER"]
        == (database["GRAFANA_DB_USER"])
    )


def test_images_are_ours_built_here_or_pinned() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        if image == IMAGE:
            assert (DEPLOY.parent / service["build"]["dockerfile"]).is_file()
            assert (DEPLOY / service["build"]["context"]).resolve() == DEPLOY.parent
        else:
            _, _, tag = image.rpartition(":")
            assert re.fullmatch(r"\d+(\.\d+)+(-\w+)?", tag), f"{name}: pin {image}"
