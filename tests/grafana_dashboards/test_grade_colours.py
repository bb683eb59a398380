"""Grade colours follow state, as Grafana's own display code (@grafana/data's
getDisplayProcessor, run under Node) colours the generated panels: a count of alerts is clear at
zero and in its grade's colour from one; a type's alert tile is coloured by its worst grade; a
vital-sign tile is red for a red value; nothing that is not a grade wears a grade's colour."""

from __future__ import annotations

from typing import Any

import pytest

from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.i18n import Lang, grade_name
from grafana_dashboards.panels import GRADE_COLOURS
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY
from tests.grafana_dashboards.grafana_units import grafana_display

CLEAR = "rgba(0,0,0,0)"  # what Grafana draws for "transparent"
Board = dict[str, Any]


def field_config(panel: dict[str, Any], field: str) -> dict[str, Any]:
    """The config Grafana gives `field` of the panel: defaults, then its byName overrides."""
    config = dict(panel["fieldConfig"]["defaults"])
    for override in panel["fieldConfig"]["overrides"]:
        if override["matcher"] == {"id": "byName", "options": field}:
            config.update({p["id"]: p["value"] for p in override["properties"]})
    return config


def _panel(board: Board, title: str) -> dict[str, Any]:
    [panel] = [p for p in board["panels"] if p["title"] == title]
    found: dict[str, Any] = panel
    return found


@pytest.mark.parametrize("lang", list(Lang))
def test_alert_counts_are_clear_at_zero_and_in_their_grades_colour_from_one(
    registry: Registry, lang: Lang
) -> None:
    boards = build_dashboards(registry)
    overview, alerts = boards[f"{lang}/overview.json"], boards[f"{lang}/alerts.json"]
    title = "当前预警(按等级)" if lang is Lang.ZH else "Active alerts by grade"
    by_domain = "当前预警(按领域)" if lang is Lang.ZH else "Active alerts by domain"
    cases: list[tuple[dict[str, Any], Any]] = []
    expected: list[str] = []
    for grade in GRADES_BY_SEVERITY:
        configs = [
            field_config(_panel(overview, title), grade_name(grade, lang)),
            field_config(_panel(alerts, title), grade_name(grade, lang)),
            field_config(_panel(overview, by_domain), grade.value),
        ]
        for config in configs:
            cases += [(config, 0), (config, 1), (config, 7)]
            expected += [CLEAR, GRADE_COLOURS[grade], GRADE_COLOURS[grade]]
    shown, colours = grafana_display(cases, GRADE_COLOURS.values())
    got = [s.color for s in shown]
    assert got == [colours.get(e, e) for e in expected]


@pytest.mark.parametrize("lang", list(Lang))
def test_a_types_alert_tile_wears_its_worst_grades_colour(registry: Registry, lang: Lang) -> None:
    board = build_dashboards(registry)[f"{lang}/water.json"]
    tiles = [
        p for p in board["panels"] if p.get("options", {}).get("reduceOptions", {}).get("fields")
    ]
    assert len(tiles) == len(registry.by_domain("water"))
    config = field_config(tiles[0], "firing")
    cases: list[tuple[dict[str, Any], Any]] = [(config, "0")]
    cases += [(config, f"2 · {grade_name(g, lang)}") for g in GRADES_BY_SEVERITY]
    shown, colours = grafana_display(cases, GRADE_COLOURS.values())
    assert shown[0].color == CLEAR
    assert [s.color for s in shown[1:]] == [colours[GRADE_COLOURS[g]] for g in GRADES_BY_SEVERITY]
    assert [s.text for s in shown] == [v for _, v in cases]  # the words stay as they are


def test_a_red_pressure_is_a_red_tile_and_a_healthy_one_green(registry: Registry) -> None:
    overview = build_dashboards(registry)["en/overview.json"]
    config = field_config(_panel(overview, "Vital signs · Water network"), "water_main_pressure")
    shown, colours = grafana_display(
        [(config, 0.10), (config, 0.35), (config, 0.85)], ["red", "green"]
    )
    assert [s.color for s in shown] == [colours["red"], colours["green"], colours["red"]]
    assert shown[0].text == "0.100"
