"""`make lint` holds the dependency direction: a package importing one above it fails the lint,
and so does a room of the alert engine importing one above it.

The contracts live in pyproject.toml ([tool.importlinter]); this runs the same checker on a copy
of the code with one forbidden import planted in each lower package and expects each reported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = (
    "cityvitals", "gateway", "ingest", "alerts", "grafana_dashboards", "simulators", "storage",
    "schemas",
)  # fmt: skip
# (module that imports, what it must not import)
PLANTED = {
    "ingest": "cityvitals.settings",
    "gateway": "cityvitals.configs",
    "alerts": "gateway.config",
    "storage": "ingest.config",
    "schemas": "storage.backend",
    "simulators": "storage.backend",
    "alerts/rules": "alerts.engine.core",  # inside the alert engine: rules sit below engine
    "alerts/notify": "alerts.rules.rule",  # and beside rules, never importing them
}


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    checker = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(checker), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shipped_code_keeps_the_contracts() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_against_the_layers_fails_the_lint(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package, forbidden in PLANTED.items():
        planted = tmp_path / package / "planted.py"
        planted.write_text(f"import {forbidden}  # against the layers\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    for package, forbidden in PLANTED.items():
        importer = package.replace("/", ".")
        assert f"{importer}.planted -> {forbidden}" in result.stdout, result.stdout
