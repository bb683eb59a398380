"""What deploy/ does for the walls: Grafana's settings (deploy/grafana/grafana.ini: no sign-up,
Viewers cannot edit or explore, the zh overview as home, nothing calling out), the dashboards
provisioned read-only, and the database login's grants run after every migration, in compose and
on Kubernetes, for the login Grafana's data source uses."""

from __future__ import annotations

import configparser
import json
from pathlib import PurePosixPath
from typing import Any

import yaml

from grafana_dashboards.wall_account import HOME_UID
from tests.deploy.manifests import DEPLOY, compose, k8s_object, resolve_command

SERVICES: dict[str, dict[str, Any]] = compose()["services"]
GRAFANA_INI = DEPLOY / "grafana" / "grafana.ini"


def _ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    parser.read_string(GRAFANA_INI.read_text(encoding="utf-8"))
    return parser


def _mounted(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path (relative to deploy/) of the bind mounts"""
    pairs = (v.split(":")[:2] for v in service["volumes"] if v.startswith("."))
    return {target: source for source, target in pairs}


def test_grafana_settings_keep_viewers_viewing_and_nothing_calling_out() -> None:
    ini = _ini()
    expected = {
        ("users", "allow_sign_up"): "false",
        ("users", "allow_org_create"): "false",
        ("users", "auto_assign_org_role"): "Viewer",
        ("users", "viewers_can_edit"): "false",  # also keeps Viewers out of Explore
        ("auth.anonymous", "enabled"): "false",
        ("analytics", "reporting_enabled"): "false",
        ("analytics", "check_for_updates"): "false",
        ("snapshots", "external_enabled"): "false",
    }
    assert {key: ini.get(*key, fallback=None) for key in expected} == expected
    grafana = SERVICES["grafana"]
    assert _mounted(grafana)["/etc/grafana/grafana.ini"] == "./grafana/grafana.ini"
    # One place for the settings: the environment carries only the secrets (GF_* would win).
    assert [n for n in grafana["environment"] if n.startswith("GF_")] == [
        "GF_SECURITY_ADMIN_PASSWORD"
    ]


def test_the_home_dashboard_is_the_provisioned_zh_overview() -> None:
    home = PurePosixPath(_ini().get("dashboards", "default_home_dashboard_path"))
    mounts = _mounted(SERVICES["grafana"])
    folder = next(target for target in mounts if home.is_relative_to(target))
    board = json.loads((DEPLOY / mounts[folder] / home.relative_to(folder)).read_text())
    assert board["uid"] == HOME_UID
    providers = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/cityvitals.yaml").read_text()
    )
    [zh] = [p for p in providers["providers"] if p["options"]["path"] == folder]
    assert zh["allowUiUpdates"] is False
    assert all(
        p["allowUiUpdates"] is False and p["disableDeletion"] for p in providers["providers"]
    )


def test_compose_grants_the_data_source_login_after_migrating_and_before_grafana() -> None:
    service = SERVICES["wall-reader"]
    resolve_command(service["command"])
    assert service["command"][:2] == ["db", "grant-wall-reader"]
    login = service["command"][2]
    assert SERVICES["timescaledb"]["environment"]["GRAFANA_DB_USER"] == login
    assert SERVICES["grafana"]["environment"]["CITYVITALS_GRAFANA_DB_USER"] == login
    assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert service["restart"] == "no"
    grafana = SERVICES["grafana"]["depends_on"]
    assert grafana["wall-reader"] == {"condition": "service_completed_successfully"}


def test_kubernetes_migrates_then_grants_the_same_login() -> None:
    pod = k8s_object("Job", "cityvitals-wall-reader")["spec"]["template"]["spec"]
    [migrate] = pod["initContainers"]
    [grant] = pod["containers"]
    assert migrate["args"] == ["db", "migrate"]
    resolve_command(grant["args"])
    assert grant["args"] == ["db", "grant-wall-reader", SERVICES["wall-reader"]["command"][2]]
    assert grant["image"] == migrate["image"] == SERVICES["wall-reader"]["image"]
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert "wall-reader.yaml" in kustomization["resources"]
