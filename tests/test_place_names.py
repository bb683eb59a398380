"""`make lint` fails on a district's name in the packages' Python code (issue 13: the geography
is configuration). scripts/check_place_names.py passes on the repository and, on a copy with an
offending line planted (code, comment or docstring), names each file and line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "scripts" / "check_place_names.py"
PACKAGES = (
    "alerts", "cityvitals", "gateway", "grafana_dashboards", "ingest", "schemas", "simulators",
    "storage", "bench",
)  # fmt: skip


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "repo"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("*.json"))
    return tree


def test_the_repository_names_no_district_in_code() -> None:
    result = _check(ROOT)
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("package", "line"),
    [
        ("alerts", 'DISTRICT = "yangpu"'),
        ("storage", "# rows for Yangpu only"),
        ("bench", '"""Sensors of 杨浦区."""'),
        ("schemas", 'BOX = {"YANGPU": (31.24, 31.35)}'),
    ],
)
def test_a_planted_name_fails_naming_file_and_line(tmp_path: Path, package: str, line: str) -> None:
    tree = _copy(tmp_path)
    planted = tree / package / "planted.py"
    planted.write_text(f'"""A module."""\n\n{line}\n', encoding="utf-8")
    result = _check(tree)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{package}/planted.py:3: {line}"]
    assert "district name(s) in Python code" in result.stderr


def test_sensor_ids_and_other_places_pass(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    (tree / "ingest" / "planted.py").write_text(
        'IDS = ["yp-wp-0001", "sim-wmp-11-0003"]  # a sensor id, no place\n',
        encoding="utf-8",
    )
    (tree / "schemas" / "notes.md").write_text("杨浦区 in docs is fine\n", encoding="utf-8")
    assert _check(tree).returncode == 0
