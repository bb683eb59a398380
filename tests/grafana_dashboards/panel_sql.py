"""Run a dashboard's SQL the way Grafana would: variables first, then every panel's targets.

Query variables run in order (a later one may use an earlier one), multi-value variables are set
to All (or their first option), single-value ones are tried with each of their options, and
repeated panels are cloned per value of their variable, each clone seeing only its own value -
as Grafana does.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from tests.grafana_dashboards.data_links import link_problems
from tests.grafana_dashboards.grafana_sql import (
    Value,
    calculate_interval,
    expand,
    parse_interval,
    several,
    single,
)

NUMERIC = {"int2", "int4", "int8", "float4", "float8", "numeric"}
TEXT = {"text", "varchar", "name", "bpchar"}
TIME = {"timestamptz", "timestamp", "date"}


@dataclass(frozen=True)
class Result:
    board: str
    panel: str  # title (with the repeated value, if any)
    panel_type: str
    format: str
    sql: str
    columns: dict[str, str]  # name -> PostgreSQL type name
    rows: list[asyncpg.Record]
    problems: list[str]


async def _fetch(conn: asyncpg.Connection, sql: str) -> tuple[dict[str, str], list[Any]]:
    statement = await conn.prepare(sql)
    columns = {a.name: a.type.name for a in statement.get_attributes()}
    return columns, await statement.fetch()


async def variable_sets(
    conn: asyncpg.Connection, board: dict[str, Any], start: datetime, end: datetime, tsdb: bool
) -> list[dict[str, Value]]:
    """Every combination of single-value options; multi-value variables at All, or with every
    option chosen when they have no All (a person picks the sensors to look at; picking all of
    them keeps a sensor that is in a simulated dropout during the range - which one depends on
    the hour the test runs - from emptying the panel, and runs the multi-value SQL)."""
    sets: list[dict[str, Value]] = [{}]
    for variable in board.get("templating", {}).get("list", []):
        name, every = variable["name"], variable.get("includeAll", False)
        multi = variable.get("multi", False)
        grown: list[dict[str, Value]] = []
        for values in sets:
            if variable["type"] == "custom":
                options = [(o["value"], o["text"]) for o in variable["options"]]
            elif variable["type"] == "textbox":  # what was typed, else its default
                options = [(variable["query"], variable["query"])]
            else:
                sql = expand(variable["query"], start, end, variables=values,
                             interval=timedelta(minutes=1), timescaledb=tsdb)  # fmt: skip
                _, rows = await _fetch(conn, sql)
                options = [(str(r["__value"]), str(r["__text"])) for r in rows]
            if not options:
                raise AssertionError(f"{board['title']}: variable {name} has no options")
            if every or multi:
                chosen = [several([v for v, _ in options], [t for _, t in options])]
            else:
                chosen = [single(v, t) for v, t in options]
            grown += [{**values, name: c} for c in chosen]
        sets = grown
    return sets


def _panel_range(
    panel: dict[str, Any], start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """A panel's relative time override (`timeFrom: 3h`) replaces the dashboard's range."""
    if panel.get("timeFrom"):
        return end - parse_interval(panel["timeFrom"]), end
    return start, end


def _clones(panel: dict[str, Any], values: dict[str, Value]) -> list[tuple[str, dict[str, Value]]]:
    repeat = panel.get("repeat")
    if not repeat:
        return [(panel["title"], values)]
    chosen = values[repeat]
    return [
        (f"{panel['title']} [{value}]", {**values, repeat: single(value, text, multi=True)})
        for value, text in zip(chosen.values, chosen.texts, strict=True)
    ]


async def run_board(
    conn: asyncpg.Connection,
    name: str,
    board: dict[str, Any],
    start: datetime,
    end: datetime,
    *,
    timescaledb: bool,
) -> AsyncIterator[Result]:
    panels = [p for p in board["panels"] if p["type"] != "row"]
    for values in await variable_sets(conn, board, start, end, timescaledb):
        for panel, (title, scoped) in itertools.chain.from_iterable(
            ((p, c) for c in _clones(p, values)) for p in panels
        ):
            lo, hi = _panel_range(panel, start, end)
            interval = calculate_interval(
                lo, hi, int(panel.get("maxDataPoints", 1000)), panel.get("interval") or "1m"
            )
            for target in panel["targets"]:
                sql = expand(target["rawSql"], lo, hi, variables=scoped, interval=interval,
                             timescaledb=timescaledb)  # fmt: skip
                try:
                    columns, rows = await _fetch(conn, sql)
                except asyncpg.PostgresError as error:
                    columns, rows, problems = {}, [], [f"{type(error).__name__}: {error}"]
                else:
                    problems = check(panel, target["format"], columns, rows)
                yield Result(name, title, panel["type"], target["format"], sql, columns, rows,
                             problems)  # fmt: skip


def check(panel: dict[str, Any], fmt: str, columns: dict[str, str], rows: list[Any]) -> list[str]:
    """What the panel needs from its result, as Grafana reads it, its data links included."""
    problems: list[str] = link_problems(panel, columns)
    if fmt == "time_series":
        if "time" not in columns:
            return ["no column named time"]
        if columns["time"] not in TIME | NUMERIC:
            problems.append(f"time column is {columns['time']}")
        for name, kind in columns.items():
            if name == "time":
                continue
            if name == "metric" and kind not in TEXT:
                problems.append(f"metric column is {kind}, not text")
            elif name != "metric" and kind not in NUMERIC | TEXT:
                problems.append(f"value column {name} is {kind}")
        if not any(kind in NUMERIC for name, kind in columns.items() if name != "time"):
            problems.append("no numeric value column")
        times = [r["time"] for r in rows]
        if times != sorted(times):
            problems.append("rows are not sorted by time")
    elif panel["type"] in ("stat", "bargauge"):
        # A stat set to show every field ("/.*/") shows text too (a count with its grade's name).
        shown = NUMERIC | TEXT if _shows_text(panel) else NUMERIC
        if not any(kind in shown for kind in columns.values()):
            problems.append(f"no numeric column in {columns}")
    elif panel["type"] == "geomap":
        for name in ("latitude", "longitude", "worst_grade", "sensors"):
            if columns.get(name) not in NUMERIC:
                problems.append(f"geomap needs a numeric {name} column")
        if columns.get("name") not in TEXT:
            problems.append("geomap needs a text name column")
    return problems


def _shows_text(panel: dict[str, Any]) -> bool:
    fields = panel["options"]["reduceOptions"].get("fields") if panel["type"] == "stat" else None
    return fields == "/.*/"
