"""The walls' tables in words: every column shown has a header in the wall's language, stored
codes read as the ops console's words in colours that never borrow a grade's, grades read in
their own colours, empty panels say so, and an alert on a sensor opens that sensor's board."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from alerts.model import OpsState, Phase, closed_while_firing
from grafana_dashboards import alert_board, cell_words
from grafana_dashboards.boards import uid
from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.i18n import Lang, grade_name, text
from grafana_dashboards.panels import GRADE_COLOURS
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY
from tests.grafana_dashboards.grafana_sql import expand, single
from tests.grafana_dashboards.panel_sql import run_board
from tests.harness import POSTGRES_ONLY, ScratchDatabase

CONSOLE_I18N = Path(__file__).parents[2] / "gateway" / "console" / "static" / "i18n"
Board = dict[str, Any]


@pytest.fixture(scope="module")
def boards(registry: Registry) -> dict[str, Board]:
    return build_dashboards(registry)


def _panels(boards: dict[str, Board], *types: str) -> Iterator[tuple[str, Board]]:
    for name, board in boards.items():
        for panel in board["panels"]:
            if panel["type"] in types:
                yield name, panel


def _column(panel: Board, column: str) -> dict[str, Any]:
    """The properties of the panel's overrides on `column`, by id."""
    return {
        prop["id"]: prop["value"]
        for o in panel["fieldConfig"].get("overrides", [])
        if o["matcher"] == {"id": "byName", "options": column}
        for prop in o["properties"]
    }


def _words(mappings: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Code -> (text, colour) of value mappings; special ones under their match."""
    found = {}
    for mapping in mappings:
        options = mapping["options"]
        if mapping["type"] == "special":
            options = {options["match"]: options["result"]}
        found.update({code: (r["text"], r.get("color", "")) for code, r in options.items()})
    return found


def test_the_tables_know_every_phase_and_ops_state_the_alert_store_holds(
    boards: dict[str, Board],
) -> None:
    assert set(cell_words.PHASES) == {p.value for p in Phase}
    assert set(cell_words.OPS_STATES) == {o.value for o in OpsState}
    # and the state the console derives (alerts.model.closed_while_firing), as the tables do
    shown = {o.value for o in OpsState} | {cell_words.CLOSED_WHILE_FIRING}
    columns = {"phase": {p.value for p in Phase}, "ops": shown}
    seen = 0
    for name, panel in _panels(boards, "table"):
        for column, codes in columns.items():
            if "displayName" in _column(panel, column):  # a column the table shows
                mapped = _words(_column(panel, column).get("mappings", []))
                assert set(mapped) == codes, (name, panel["title"], column)
                seen += 1
    assert seen == 2 * 2 * 2  # open alerts and sensor alerts, phase and ops, zh and en


def test_codes_read_as_the_ops_consoles_words() -> None:
    """Same words on the wall as on the console's duty list and sensor pages."""
    same = {
        **{f"phase_{p.value}": f"duty.phase_{p.value}" for p in Phase},
        **{f"ops_{o}": f"duty.ops_{o}" for o in cell_words.OPS_SHOWN},
        "online_state": "sensor.online",
        "offline_state": "sensor.offline",
        "col_grade": "duty.col_grade",
        "subdistrict": "duty.col_place",
        "col_value": "duty.col_value",
        "col_ops": "duty.col_ops",
        "col_phase": "duty.fact_phase",
        "col_sensor": "sensor.id",
        "col_name": "sensor.name",
        "col_status": "sensor.status",
        "col_status_changed": "sensor.status_changed",
        "col_last_seen": "sensor.last_seen",
    }
    for lang in Lang:
        console = json.loads((CONSOLE_I18N / f"{lang.value}.json").read_text(encoding="utf-8"))
        wall = {key: text(key, lang) for key in same}
        assert wall == {key: console[theirs] for key, theirs in same.items()}, lang


def test_grade_cells_are_coloured_by_grade_and_no_other_cell_borrows_a_grade_colour(
    boards: dict[str, Board],
) -> None:
    grade_colours = set(GRADE_COLOURS.values())
    graded = 0
    for name, panel in _panels(boards, "table", "state-timeline"):
        lang = Lang(name.split("/")[0])
        names = {grade_name(g, lang): GRADE_COLOURS[g] for g in GRADES_BY_SEVERITY}
        grade = _column(panel, "grade")
        if grade:
            assert grade["custom.cellOptions"]["type"] == "color-background", (name, panel)
            assert _words(grade["mappings"]) == {n: (n, c) for n, c in names.items()}
            graded += 1
        mappings = [
            *panel["fieldConfig"]["defaults"].get("mappings", []),
            *(
                p["value"]
                for o in panel["fieldConfig"].get("overrides", [])
                if o["matcher"]["options"] != "grade"
                for p in o["properties"]
                if p["id"] == "mappings"
            ),
        ]
        for code, (word, colour) in _words([m for ms in mappings for m in _flat(ms)]).items():
            assert colour not in grade_colours, (name, panel["title"], code, word, colour)
    assert graded == 4  # open alerts and sensor alerts, zh and en


def _flat(mapping: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return mapping if isinstance(mapping, list) else [mapping]


def test_every_table_and_state_timeline_says_when_it_has_nothing(
    boards: dict[str, Board],
) -> None:
    empty = {}
    for name, panel in _panels(boards, "table", "state-timeline"):
        lang = Lang(name.split("/")[0])
        alerts = "a.fingerprint" in panel["targets"][0]["rawSql"]
        key = "no_alerts" if alerts else "no_value"
        empty[(name, panel["title"])] = panel["fieldConfig"]["defaults"].get("noValue")
        assert empty[(name, panel["title"])] == text(key, lang), (name, panel["title"])
    # three tables, a status timeline and the overview's alerts by domain, zh and en
    assert len(empty) == 10


@POSTGRES_ONLY
async def test_every_column_a_table_shows_has_a_header_in_the_walls_language(
    prepared: ScratchDatabase, conn: asyncpg.Connection, boards: dict[str, Board], now: datetime
) -> None:
    checked = set()
    for name, board in boards.items():
        tables = {p["title"]: p for p in board["panels"] if p["type"] == "table"}
        if not tables:
            continue
        lang = Lang(name.split("/")[0])
        async for result in run_board(conn, name, board, now - timedelta(days=1), now,
                                      timescaledb=False):  # fmt: skip
            panel = tables.get(result.panel)
            if panel is None:
                continue
            assert result.problems == [], (name, result.panel, result.problems)
            for column in result.columns:
                props = _column(panel, column)
                if props.get("custom.hidden"):
                    continue
                header = props.get("displayName")
                key = cell_words.HEADERS.get(column)
                # a count per grade is headed by the grade's name (the overview's alerts)
                by_grade = {g.value: grade_name(g, lang) for g in GRADES_BY_SEVERITY}
                assert key is not None or column in by_grade, (name, result.panel, column)
                expected = text(key, lang) if key is not None else by_grade[column]
                assert header == expected, (name, result.panel, column)
                # a null cell shows a dash, not the panel's "no alerts"
                assert props["noValue"] == text("empty_cell", lang), (name, result.panel, column)
                checked.add((name, result.panel, column))
    # open alerts, sensors, sensor alerts, the overview's alerts by domain (domain, 4 grades)
    assert len(checked) == 2 * (10 + 6 + 10 + 5)


def test_a_column_without_a_header_is_refused_by_name() -> None:
    with pytest.raises(Exception, match="table column 'labels' has no header"):
        cell_words.header("labels", Lang.ZH)


def test_alert_rows_open_the_sensor_board_with_its_variables_and_the_time_range(
    boards: dict[str, Board],
) -> None:
    for lang in Lang:
        [panel] = [
            p
            for p in boards[f"{lang.value}/alerts.json"]["panels"]
            if p["title"] == text("open_alerts", lang)
        ]
        [link] = [
            link
            for link in panel["fieldConfig"]["defaults"]["links"]
            if link["url"].startswith("/d/")
        ]
        assert link["title"] == text("open_sensor_board", lang)
        target, query = link["url"].split("?")
        sensor_board = boards[f"{lang.value}/sensor.json"]
        assert target == f"/d/{sensor_board['uid']}" == f"/d/{uid('sensor', lang)}"
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        variables = {v["name"] for v in sensor_board["templating"]["list"]}
        assert {p.removeprefix("var-") for p in params} <= variables
        assert set(params) == {"var-type", "var-sensor", "var-subdistrict"}
        assert query.endswith("&${__url_time_range}")
        fields = {re.sub(r"\$\{__data\.fields\.(\w+)\}", r"\1", v) for v in params.values()}
        assert fields == set(alert_board.BOARD_LINK_COLUMNS)
        for column in fields:  # read by the link, not shown
            assert _column(panel, column) == {"custom.hidden": True}


_ALERT = """INSERT INTO alerts (fingerprint, rule_id, subject_kind, subject_id, domain,
    subdistrict, phase, grade, firing_since, ops) VALUES ($1, 'r', $2, $3, $4, $5, $6, 'red', $7,
    $8)"""


async def _open_alerts(
    conn: asyncpg.Connection, subdistrict: str, now: datetime
) -> dict[str, asyncpg.Record]:
    variables = {"grade": single("red"), "subdistrict": single(subdistrict)}
    query = expand(
        alert_board.open_alerts_sql(Lang.ZH), now - timedelta(hours=1), now,
        variables=variables, interval=timedelta(minutes=1), timescaledb=False,
    )  # fmt: skip
    return {r["fingerprint"]: r for r in await conn.fetch(query)}


async def _a_sensor(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(
        """SELECT s.external_id, t.name AS type, t.domain, d.code AS subdistrict
        FROM sensors s JOIN sensor_types t ON t.id = s.sensor_type_id
        JOIN subdistricts d ON d.id = s.subdistrict_id ORDER BY s.external_id LIMIT 1"""
    )


@POSTGRES_ONLY
async def test_a_sensors_alert_row_holds_values_the_sensor_board_offers(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    sensor = await _a_sensor(conn)
    await conn.execute(
        _ALERT, "fp-sensor", "sensor", sensor["external_id"], sensor["domain"],
        sensor["subdistrict"], "firing", now, "open",
    )  # fmt: skip
    await conn.execute(
        _ALERT, "fp-district", "district", "d", sensor["domain"], None, "firing", now, "open"
    )
    rows = await _open_alerts(conn, sensor["subdistrict"], now)
    columns = alert_board.BOARD_LINK_COLUMNS
    assert [rows["fp-sensor"][c] for c in columns] == [
        sensor["type"],
        sensor["external_id"],
        sensor["subdistrict"],
    ]
    # district-wide: no sensor to pick, every subdistrict (Grafana's All)
    assert [rows["fp-district"][c] for c in columns] == [None, None, "$__all"]
    assert rows["fp-sensor"]["phase"] == Phase.FIRING  # the code; the table maps it to words


@POSTGRES_ONLY
async def test_the_tables_show_closed_while_firing_like_the_console(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    sensor = await _a_sensor(conn)
    cases = [(p, o) for p in Phase if p is not Phase.INACTIVE for o in OpsState]
    for n, (phase, ops) in enumerate(cases):
        await conn.execute(
            _ALERT, f"fp{n}", "sensor", sensor["external_id"], sensor["domain"],
            sensor["subdistrict"], phase.value, now, ops.value,
        )  # fmt: skip
    rows = await _open_alerts(conn, sensor["subdistrict"], now)
    for n, (phase, ops) in enumerate(cases):
        if phase is Phase.RESOLVED and ops is OpsState.CLOSED:
            assert f"fp{n}" not in rows  # done with: off the list
            continue
        expected = cell_words.CLOSED_WHILE_FIRING if closed_while_firing(phase, ops) else ops
        assert rows[f"fp{n}"]["ops"] == expected, (phase, ops)
