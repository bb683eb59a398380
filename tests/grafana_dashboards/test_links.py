"""Every map, bar, alert and sensor panel of every wall leads to the board about what was clicked,
keeping the viewer's time range and the variables both boards have; every link's target board
exists in the same language and has each variable the link sets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from grafana_dashboards.console_links import CONSOLE_URL
from grafana_dashboards.generate import build_dashboards
from schemas.registry import Registry
from tests.grafana_dashboards.data_links import link_urls

Board = dict[str, Any]
TIME_RANGE = "${__url_time_range}"
BOARD_URL = re.compile(r"^/d/(?P<uid>[^?]+)\?(?P<query>.*)$")
SETS = re.compile(r"(?:^|&)var-(\w+)=")
CARRIES = re.compile(r"\$\{(\w+):queryparam\}")
ROW_DOMAIN = "${__data.fields.code}"  # a row's domain code, in the uid of its board
LINKED_TYPES = {"geomap", "bargauge", "table"}


def _needs_links(panel: dict[str, Any]) -> bool:
    """Maps, bars and tables; stat tiles of alerts or of what sensors read."""
    if panel["type"] in LINKED_TYPES:
        return True
    sql = " ".join(t.get("rawSql", "") for t in panel.get("targets", []))
    return panel["type"] == "stat" and bool(re.search(r"FROM (alerts|readings)\b", sql))


def _visible_variables(board: Board) -> set[str]:
    return {v["name"] for v in board["templating"]["list"] if v.get("hide", 0) != 2}


def _variables(board: Board) -> set[str]:
    return {v["name"] for v in board["templating"]["list"]}


def _links(panel: dict[str, Any]) -> Iterator[str]:
    yield from (url for _, url in link_urls(panel))
    yield from (link["url"] for link in panel.get("links", []))


def link_problems(
    board: Board, panel: dict[str, Any], boards: dict[str, Board], codes: list[str]
) -> list[str]:
    problems: list[str] = []
    urls = list(_links(panel))
    to_boards = [u for u in urls if u.startswith("/d/")]
    if not to_boards:
        problems.append("no link to a board")
    for url in urls:
        if url.startswith(f"${{{CONSOLE_URL}:raw}}/console/"):
            continue  # the ops console's page of the alert or sensor (test_console_links)
        match = BOARD_URL.match(url)
        if match is None:
            problems.append(f"{url}: neither a board nor the console")
            continue
        uids = (
            [match["uid"].replace(ROW_DOMAIN, c) for c in codes]
            if ROW_DOMAIN in url
            else [match["uid"]]
        )
        query = match["query"]
        if TIME_RANGE not in query:
            problems.append(f"{url}: drops the time range")
        for target_uid in uids:
            target = boards.get(target_uid)
            if target is None:
                problems.append(f"{url}: no board {target_uid}")
                continue
            named = set(SETS.findall(query)) | set(CARRIES.findall(query))
            for variable in sorted(named - _variables(target)):
                problems.append(f"{url}: {target_uid} has no variable {variable}")
            for variable in sorted(_visible_variables(board) & _visible_variables(target) - named):
                problems.append(f"{url}: drops the chosen {variable}")
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_map_bar_alert_and_sensor_panel_links_to_an_existing_board(
    registry: Registry, lang: str
) -> None:
    walls = build_dashboards(registry)
    boards = {b["uid"]: b for name, b in walls.items() if name.startswith(f"{lang}/")}
    codes = [d.code for d in registry.domains_in_use()]
    problems, checked = [], 0
    for board in boards.values():
        for panel in board["panels"]:
            if panel["type"] == "row" or not _needs_links(panel):
                continue
            checked += 1
            problems += [
                f"{board['uid']} {panel['title']!r}: {p}"
                for p in link_problems(board, panel, boards, codes)
            ]
    assert not problems, "\n".join(problems)
    assert checked >= 50


def test_the_board_menu_keeps_the_variables_and_the_time_range(registry: Registry) -> None:
    for name, board in build_dashboards(registry).items():
        [menu] = [link for link in board["links"] if link["type"] == "dashboards"]
        assert (menu["includeVars"], menu["keepTime"]) == (True, True), name


def test_the_checker_catches_a_dangling_link() -> None:
    source: Board = {"uid": "a", "templating": {"list": [{"name": "subdistrict"}]}}
    variables: list[dict[str, str]] = [{"name": "type"}]
    target: Board = {"uid": "b", "templating": {"list": variables}}
    panel = {
        "type": "bargauge",
        "fieldConfig": {
            "defaults": {"links": [{"url": "/d/b?var-sensor=x"}, {"url": "/d/c?" + TIME_RANGE}]}
        },
    }
    assert link_problems(source, panel, {"a": source, "b": target}, []) == [
        "/d/b?var-sensor=x: drops the time range",
        "/d/b?var-sensor=x: b has no variable sensor",
        f"/d/c?{TIME_RANGE}: no board c",
    ]
    variables.append({"name": "subdistrict"})
    assert "/d/b?var-sensor=x: drops the chosen subdistrict" in link_problems(
        source, panel, {"a": source, "b": target}, []
    )
