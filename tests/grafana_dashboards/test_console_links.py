"""Grafana meets the console: every alert and sensor table on the walls links to the ops
console's page of the same alert or sensor, through fields its SQL really returns, at a base URL
set once per deployment (`cityvitals grafana export --console-url`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from typer.testing import CliRunner

from cityvitals.cli import app
from cityvitals.settings import GatewaySettings
from grafana_dashboards.console_links import (
    ALERT_PAGE,
    CONSOLE_URL,
    DEFAULT_CONSOLE_URL,
    FINGERPRINT,
    SENSOR_PAGE,
)
from grafana_dashboards.generate import build_dashboards
from schemas.registry import Registry
from tests.grafana_dashboards.data_links import link_problems, link_urls
from tests.grafana_dashboards.panel_sql import run_board
from tests.harness import POSTGRES_ONLY, ScratchDatabase

runner = CliRunner()
ALERT_LINK = f"${{{CONSOLE_URL}:raw}}{ALERT_PAGE}${{__data.fields.{FINGERPRINT}}}"
SENSOR_LINK = f"${{{CONSOLE_URL}:raw}}{SENSOR_PAGE}${{__value.raw}}"


def _tables(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] == "table"]


def _hidden(panel: dict[str, Any]) -> set[str]:
    return {
        o["matcher"]["options"]
        for o in panel.get("fieldConfig", {}).get("overrides", [])
        for prop in o["properties"]
        if prop == {"id": "custom.hidden", "value": True}
    }


@POSTGRES_ONLY
async def test_every_alert_and_sensor_table_links_through_columns_its_sql_returns(
    prepared: ScratchDatabase, conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    boards = build_dashboards(registry)
    seen: dict[str, set[str]] = {}
    for name, board in boards.items():
        tables = {p["title"]: p for p in _tables(board)}
        async for result in run_board(
            conn, name, board, now - timedelta(days=1), now, timescaledb=False
        ):
            panel = tables.get(result.panel)
            if panel is None:
                continue
            assert result.problems == [], (name, result.panel, result.problems)
            links = set(link_urls(panel))
            kinds = seen.setdefault(f"{name} {result.panel}", set())
            if FINGERPRINT in result.columns:  # a table of alerts: every cell opens the alert
                assert (None, ALERT_LINK) in links, (name, result.panel)
                assert FINGERPRINT in _hidden(panel), (name, result.panel)
                kinds.add("alert")
            if "sensor" in result.columns:  # a sensor's id opens the sensor
                assert ("sensor", SENSOR_LINK) in links, (name, result.panel)
                kinds.add("sensor")
            if any(url.startswith("/d/") for _, url in links):  # to another wall
                kinds.add("board")
            assert kinds, f"{name} {result.panel!r}: a table that links to nothing"
    # Open alerts, sensors, alerts on those sensors, the overview's alerts by domain - in both
    # languages, each checked against the columns its SQL returns.
    assert sorted(map(sorted, seen.values())) == sorted(
        [["alert", "board"], ["board", "sensor"], ["alert", "board", "sensor"], ["board"]] * 2
    )
    assert len(seen) == sum(len(_tables(b)) for b in boards.values()) == 8


def test_the_check_fails_for_a_link_the_sql_cannot_serve() -> None:
    panel = {
        "fieldConfig": {
            "defaults": {"links": [{"url": "${console_url:raw}/x/${__data.fields.fp}"}]},
            "overrides": [
                {
                    "matcher": {"id": "byName", "options": "device"},
                    "properties": [{"id": "links", "value": [{"url": "/s/${__value.raw}"}]}],
                }
            ],
        }
    }
    assert link_problems(panel, {"fingerprint": "text", "sensor": "text"}) == [
        "a link reads field 'fp', which the SQL does not return",
        "a link on column 'device', which the SQL does not return",
    ]
    assert link_problems(panel, {"fp": "text", "device": "text"}) == []


def test_the_console_url_is_one_hidden_variable_defaulting_to_the_gateway(
    registry: Registry,
) -> None:
    gateway = GatewaySettings()
    assert f"http://{gateway.host}:{gateway.port}" == DEFAULT_CONSOLE_URL
    for name, board in build_dashboards(registry).items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        if f"${{{CONSOLE_URL}:raw}}" not in json.dumps(board["panels"]):  # no console links
            assert CONSOLE_URL not in variables, name
            continue
        variable = variables[CONSOLE_URL]
        assert (variable["type"], variable["hide"], variable["query"]) == (
            "textbox",
            2,  # hidden: no input box on a wall; ?var-console_url= still overrides it
            DEFAULT_CONSOLE_URL,
        )
        assert variable["current"]["value"] == DEFAULT_CONSOLE_URL


def test_export_sets_the_console_url_once_and_refuses_a_bad_one(tmp_path: Path) -> None:
    out = str(tmp_path)
    written = runner.invoke(
        app, ["grafana", "export", "--output", out, "--console-url", "https://ops.example/cv/"]
    )
    assert written.exit_code == 0, written.output
    board = (tmp_path / "zh" / "alerts.json").read_text(encoding="utf-8")
    assert '"query": "https://ops.example/cv"' in board  # no trailing slash: one / before console
    stale = runner.invoke(app, ["grafana", "export", "--check", "--output", out])
    assert stale.exit_code == 1
    assert "zh/alerts.json: differs" in stale.output
    assert "zh/overview.json" not in stale.output  # boards without tables do not change
    same = ["grafana", "export", "--check", "--output", out, "--console-url"]
    assert runner.invoke(app, [*same, "https://ops.example/cv"]).exit_code == 0
    for bad in ("ops.example", "ftp://ops.example", "https://ops.example/?next=1"):
        refused = runner.invoke(app, ["grafana", "export", "--output", out, "--console-url", bad])
        assert refused.exit_code == 1
        assert f"--console-url: the console URL '{bad}'" in refused.output
