"""The committed walls: valid Grafana dashboards, equal to the generator's output, and driven by
the registry (a new YAML type gets its panels)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from grafana_dashboards.generate import DASHBOARDS_DIR, build_dashboards, differences
from grafana_dashboards.sql_target import DATASOURCE_UID
from schemas.registry import SENSOR_TYPES_DIR, Registry, load_registry
from tests.grafana_dashboards.sdk_model import validate

COMMITTED = sorted(DASHBOARDS_DIR.glob("*/*.json"))
PROVISIONING = Path(__file__).parents[2] / "deploy" / "grafana" / "provisioning"


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board.get("panels", []) if p["type"] != "row"]


def test_every_language_has_every_board() -> None:
    names = {p.relative_to(DASHBOARDS_DIR).as_posix() for p in COMMITTED}
    assert {n.split("/")[0] for n in names} == {"zh", "en"}
    assert len(names) == 16


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.relative_to(DASHBOARDS_DIR).as_posix())
def test_dashboard_matches_grafanas_dashboard_model(path: Path) -> None:
    assert validate(json.loads(path.read_text(encoding="utf-8"))) == []


def test_validation_catches_what_grafana_would_not_understand() -> None:
    board = json.loads((DASHBOARDS_DIR / "zh" / "overview.json").read_text(encoding="utf-8"))
    panel = next(p for p in _panels(board) if p["type"] == "stat")
    panel["titel"] = "typo"
    panel["options"]["colorMode"] = "rainbow"
    panel["gridPos"]["w"] = "wide"
    problems = validate(board)
    assert any("titel: not in Grafana's model" in p for p in problems)
    assert any("color_mode" in p and "rainbow" in p for p in problems)
    assert any("grid_pos.w: expected a int" in p for p in problems)


def test_committed_json_equals_the_generators_output(registry: Registry) -> None:
    assert differences(registry) == [], "run `cityvitals grafana export` and commit the result"


def test_panels_are_laid_out_on_the_grid_with_unique_ids(registry: Registry) -> None:
    for name, board in build_dashboards(registry).items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        assert len(board["uid"]) <= 40, name
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0, (name, panel["title"])
            assert grid["x"] + grid["w"] <= 24, (name, panel["title"])
        for panel in _panels(board):
            assert panel["datasource"]["uid"] == DATASOURCE_UID, (name, panel["title"])
            for target in panel["targets"]:
                assert "--" not in target["rawSql"], "Grafana strips SQL comments; keep none"


def test_the_provisioned_data_source_is_the_one_the_panels_use() -> None:
    text = (PROVISIONING / "datasources" / "cityvitals.yaml").read_text(encoding="utf-8")
    assert f"uid: {DATASOURCE_UID}" in text
    assert "type: grafana-postgresql-datasource" in text


def test_a_new_type_in_yaml_gets_its_panels(registry: Registry, tmp_path: Path) -> None:
    types_dir = tmp_path / "sensor_types"
    shutil.copytree(SENSOR_TYPES_DIR, types_dir)
    source = (types_dir / "water_main_pressure.yaml").read_text(encoding="utf-8")
    new = (
        source.replace("name: water_main_pressure", "name: hydrant_pressure")
        .replace("zh: 供水管网压力计", "zh: 消火栓压力计")
        .replace("en: Water-main pressure gauge", "en: Hydrant pressure gauge")
    )
    (types_dir / "hydrant_pressure.yaml").write_text(new, encoding="utf-8")
    before = build_dashboards(registry)
    after = build_dashboards(load_registry(types_dir))

    def mentions(board: dict[str, Any]) -> list[str]:
        return [p["title"] for p in _panels(board)
                if any("'hydrant_pressure'" in t["rawSql"] for t in p["targets"])]  # fmt: skip

    for lang, title in (("zh", "消火栓压力计"), ("en", "Hydrant pressure gauge")):
        water_before, water_after = before[f"{lang}/water.json"], after[f"{lang}/water.json"]
        # a health line (online, alerts) and two panels for each of its two metrics
        assert len(_panels(water_after)) == len(_panels(water_before)) + 2 + 2 * 2
        assert len(mentions(water_after)) == 6
        assert any(p["title"] == title for p in water_after["panels"] if p["type"] == "row")
        assert len(mentions(after[f"{lang}/overview.json"])) == 1  # its vital sign
        assert not mentions(after[f"{lang}/power.json"])
