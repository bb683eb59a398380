"""The overview map leads somewhere and speaks the wall's language: its links open the hovered
subdistrict on every domain board, its tooltip names the figures in zh/en and the worst grade by
its name and colour, and the codes and coordinates the markers and links need stay out of sight."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from grafana_dashboards.boards import uid
from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.i18n import Lang, domain_name, grade_name, text
from grafana_dashboards.panels import GRADE_COLOURS, GREEN
from grafana_dashboards.subdistrict_map import SUBDISTRICT_VARIABLE, map_sql, subdistrict_map
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY
from tests.grafana_dashboards.panel_sql import run_board
from tests.harness import POSTGRES_ONLY, ScratchDatabase

LINK = re.compile(
    r"^/d/(?P<uid>[a-z0-9-]+)\?var-(?P<variable>\w+)=\$\{__data\.fields\.code\}"
    r"&\$\{__url_time_range\}$"
)
CJK = re.compile(r"[\u3400-\u9fff]")
HIDDEN = {"tooltip": True, "legend": True, "viz": False}


def _map_json(lang: Lang, registry: Registry) -> dict[str, Any]:
    panel = subdistrict_map(text("map", lang), map_sql(lang), lang=lang, registry=registry)
    encoded: dict[str, Any] = json.loads(json.dumps(panel.build(), cls=JSONEncoder))
    return encoded


def _overrides(panel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Column -> {property id: value}."""
    found: dict[str, dict[str, Any]] = {}
    for override in panel["fieldConfig"]["overrides"]:
        assert override["matcher"]["id"] == "byName"
        column = found.setdefault(override["matcher"]["options"], {})
        column.update({p["id"]: p["value"] for p in override["properties"]})
    return found


@pytest.mark.parametrize("lang", list(Lang))
def test_one_link_per_domain_opens_the_subdistrict_on_that_board(
    lang: Lang, registry: Registry
) -> None:
    boards = {
        b["uid"]: b for name, b in build_dashboards(registry).items() if name.startswith(lang)
    }
    links = _map_json(lang, registry)["fieldConfig"]["defaults"]["links"]
    domains = registry.domains_in_use()
    assert [link["title"] for link in links] == [domain_name(d, lang) for d in domains]
    for link, domain in zip(links, domains, strict=True):
        match = LINK.match(link["url"])
        assert match, link["url"]
        assert link.get("targetBlank", False) is False  # same tab: a wall has no tab bar
        assert match["uid"] == uid(domain.code, lang)
        board = boards[match["uid"]]  # exists, in the same language
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert match["variable"] == SUBDISTRICT_VARIABLE
        # The variable's values are the subdistrict codes the link passes.
        assert "code AS __value" in variables[SUBDISTRICT_VARIABLE]["query"]


@pytest.mark.parametrize("lang", list(Lang))
def test_the_tooltip_names_the_figures_and_hides_codes_and_coordinates(
    lang: Lang, registry: Registry
) -> None:
    overrides = _overrides(_map_json(lang, registry))
    shown = {column: o["displayName"] for column, o in overrides.items() if "displayName" in o}
    assert shown == {
        "name": text("subdistrict", lang),
        "sensors": text("map_sensors", lang),
        "online": text("map_online", lang),
        "offline": text("map_offline", lang),
        "firing_alerts": text("map_firing", lang),
        "worst_grade": text("map_worst_grade", lang),
    }
    hidden = {column for column, o in overrides.items() if o.get("custom.hideFrom") == HIDDEN}
    assert hidden == {"code", "latitude", "longitude"}
    for label in shown.values():
        assert bool(CJK.search(label)) is (lang is Lang.ZH), label


@pytest.mark.parametrize("lang", list(Lang))
def test_the_worst_grade_reads_as_the_grades_name_in_its_colour(
    lang: Lang, registry: Registry
) -> None:
    [mapping] = _overrides(_map_json(lang, registry))["worst_grade"]["mappings"]
    assert mapping["type"] == "value"
    shown = {int(v): (r["text"], r["color"]) for v, r in mapping["options"].items()}
    assert shown == {
        0: (text("map_no_alert", lang), GREEN),
        **{
            rank: (grade_name(g, lang), GRADE_COLOURS[g])
            for rank, g in enumerate(GRADES_BY_SEVERITY, 1)
        },
    }
    assert shown[4][1] == "red"
    assert shown[1][1] == "blue"


@POSTGRES_ONLY
async def test_every_field_the_map_configures_and_links_by_is_in_its_sql_result(
    prepared: ScratchDatabase, conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    for lang in Lang:
        panel = _map_json(lang, registry)
        board = {**build_dashboards(registry)[f"{lang.value}/overview.json"], "panels": [panel]}
        results = [
            r
            async for r in run_board(
                conn, "map", board, now - timedelta(hours=6), now, timescaledb=False
            )
        ]
        assert results
        for result in results:
            assert result.problems == [], result.problems  # link fields included
            assert set(_overrides(panel)) <= set(result.columns)
            assert {r["worst_grade"] for r in result.rows} <= {0, 1, 2, 3, 4}
            assert len(result.rows) > 1
