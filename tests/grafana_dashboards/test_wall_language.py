"""Each wall speaks its own language: the zh boards hold no English identifier in any text a
person reads (titles, column headers, mapping texts, noValue, link titles, variable labels,
names fixed in SQL), the en boards no Chinese; and no table or map tooltip shows a column under
its SQL name, in either language. The walker is `wall_texts`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.i18n import Lang, text
from schemas.registry import Registry
from tests.grafana_dashboards.panel_sql import run_board
from tests.grafana_dashboards.wall_texts import (
    Text,
    board_texts,
    chinese,
    english_words,
    unnamed_columns,
)
from tests.harness import POSTGRES_ONLY, ScratchDatabase


def _other_language(lang: Lang, item: Text) -> list[str]:
    # The link to the same board in the other language names that language in its own words.
    if item.panel == "" and item.path == "links" and item.text == text("language_link", lang):
        return []
    return english_words(item.text) if lang is Lang.ZH else chinese(item.text)


def offences(boards: dict[str, dict[str, Any]]) -> list[tuple[Text, list[str]]]:
    found = []
    for name, board in boards.items():
        lang = Lang(name.split("/")[0])
        for item in board_texts(name, board):
            words = _other_language(lang, item)
            if words:
                found.append((item, words))
    return found


@pytest.fixture(scope="module")
def boards(registry: Registry) -> dict[str, dict[str, Any]]:
    return build_dashboards(registry)


def test_every_board_reads_in_its_own_language(boards: dict[str, dict[str, Any]]) -> None:
    report = "\n".join(
        f"{t.board} | panel {t.panel!r} | {t.path} | {t.text!r}: {words}"
        for t, words in offences(boards)
    )
    assert report == "", "texts in the other language:\n" + report


@POSTGRES_ONLY
async def test_no_table_or_map_shows_sql_names(
    prepared: ScratchDatabase, conn: asyncpg.Connection, boards: dict[str, Any], now: datetime
) -> None:
    """Column names come from the SQL Grafana runs: each board's panels are run (`run_board`)
    and every column a table or a map's tooltip would show must be renamed or hidden."""
    unnamed: dict[tuple[str, str], set[str]] = {}
    for name, board in boards.items():
        shown = {p["title"]: p for p in board["panels"] if p["type"] in ("table", "geomap")}
        if not shown:
            continue
        async for result in run_board(conn, name, board, now - timedelta(days=1), now,
                                      timescaledb=False):  # fmt: skip
            panel = shown.get(result.panel)
            if panel is not None and result.columns:
                key = (name.removesuffix(".json"), result.panel)
                unnamed.setdefault(key, set()).update(unnamed_columns(panel, list(result.columns)))
    offending = {key: columns for key, columns in unnamed.items() if columns}
    report = "\n".join(
        f"{board} | panel {panel!r} | columns under their SQL names: {sorted(columns)}"
        for (board, panel), columns in sorted(offending.items())
    )
    assert report == "", report
    assert len(unnamed) == 10  # four tables and the overview map, zh and en


def test_the_walk_reads_every_kind_of_text_and_flags_identifiers() -> None:
    """The walker on a board holding each kind of text with an English identifier in it."""
    panel = {
        "type": "table",
        "title": "未闭环预警",
        "fieldConfig": {
            "defaults": {"noValue": "No data", "links": [{"title": "open alert"}]},
            "overrides": [
                {
                    "matcher": {"id": "byName", "options": "phase"},
                    "properties": [
                        {"id": "displayName", "value": "firing_since"},
                        {
                            "id": "mappings",
                            "value": [{"type": "value", "options": {"firing": {"text": "firing"}}}],
                        },
                    ],
                }
            ],
        },
        "transformations": [{"id": "organize", "options": {"renameByName": {"ops": "ops"}}}],
        "targets": [{"rawSql": "SELECT 'increase' AS metric, x AS \"median\" FROM t"}],
    }
    board = {
        "title": "预警处置",
        "links": [{"title": "English"}, {"title": "Other boards"}],
        "templating": {
            "list": [
                {"name": "grade", "type": "custom", "label": "等级", "options": [{"text": "Red"}]},
                {"name": "console_url", "type": "textbox", "label": "console url", "hide": 2},
            ]
        },
        "panels": [{"type": "row", "title": "Row", "panels": [panel]}],
    }
    found = {(t.panel, t.path, t.text) for t, _ in offences({"zh/alerts.json": board})}
    assert found == {
        ("", "links", "Other boards"),
        ("", "templating[grade].options", "Red"),
        ("Row", "title", "Row"),
        ("未闭环预警", "defaults.noValue", "No data"),
        ("未闭环预警", "defaults.links", "open alert"),
        ("未闭环预警", "overrides[phase].displayName", "firing_since"),
        ("未闭环预警", "overrides[phase].mappings[0]", "firing"),
        ("未闭环预警", "transformations.renameByName[ops]", "ops"),
        ("未闭环预警", "rawSql", "increase"),
        ("未闭环预警", "rawSql", "median"),
    }
    english = {"title": "Alerts", "panels": [{"title": "处置 ${metric:text}", "targets": []}]}
    assert [(t.text, w) for t, w in offences({"en/alerts.json": english})] == [
        ("处置 ${metric:text}", ["处", "置"])
    ]


@pytest.mark.parametrize(
    ("words", "english"),
    [
        ("PM2.5 浓度(μg/m³)", []),
        ("等效声级 LAeq · 各街道当前值", []),
        ("传感器 yp-wp-0001 离线", []),
        ("用电 kWh、噪声 dB(A)、CO2", []),
        ("${metric:text} 趋势 $subdistrict", []),
        ("rule_id", ["rule_id"]),
        ("告警 firing", ["firing"]),
        ("在线 true", ["true"]),
    ],
)
def test_what_counts_as_an_english_identifier(words: str, english: list[str]) -> None:
    assert english_words(words) == english


def test_every_panel_says_in_its_language_when_it_has_nothing(
    boards: dict[str, dict[str, Any]],
) -> None:
    """Not Grafana's English "No data": the wall's own words (or the panel's, "无预警")."""
    for name, board in boards.items():
        lang = Lang(name.split("/")[0])
        own_words = {text("no_value", lang), text("no_alerts", lang)}
        for panel in board["panels"]:
            if panel["type"] != "row":
                said = panel["fieldConfig"]["defaults"].get("noValue")
                assert said in own_words, (name, panel["title"], said)
