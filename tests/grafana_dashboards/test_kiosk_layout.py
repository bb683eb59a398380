"""The overview fits one 1920x1080 kiosk screen: Grafana's grid is 24 columns wide and 30 px rows
with 8 px between them, so 28 rows (1,056 px) is all a 1080p wall shows without scrolling; the
panels may not overlap, and no hole wider than 4 columns may sit among them. On failure the test
prints the grid as text, a letter per panel."""

from __future__ import annotations

import string
from typing import Any

from grafana_dashboards.generate import build_dashboards
from schemas.registry import Registry

COLUMNS = 24
ROW_PX, GAP_PX, SCREEN_PX = 30, 8, 1080
MAX_HOLE = 4


def rows_on_screen(height_px: int = SCREEN_PX) -> int:
    """Grid rows that fit: n rows take n * 30 + (n - 1) * 8 px."""
    return (height_px + GAP_PX) // (ROW_PX + GAP_PX)


def grid(panels: list[dict[str, Any]]) -> tuple[list[list[str]], list[str]]:
    """The grid as rows of cells (a letter per panel, '.' empty, '#' overlap) and the problems."""
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    cells = [["." for _ in range(COLUMNS)] for _ in range(height)]
    problems: list[str] = []
    letters = string.ascii_uppercase + string.ascii_lowercase + string.digits
    for index, panel in enumerate(panels):
        pos, mark = panel["gridPos"], letters[index % len(letters)]
        if pos["x"] + pos["w"] > COLUMNS:
            problems.append(f"{panel['title']!r} runs past the right edge")
        for y in range(pos["y"], pos["y"] + pos["h"]):
            for x in range(pos["x"], min(COLUMNS, pos["x"] + pos["w"])):
                if cells[y][x] != ".":
                    problems.append(f"{panel['title']!r} overlaps at column {x}, row {y}")
                    cells[y][x] = "#"
                else:
                    cells[y][x] = mark
    for y, line in enumerate(cells):
        for hole in _holes(line):
            if hole > MAX_HOLE:
                problems.append(f"a hole {hole} columns wide in row {y}")
    return cells, problems


def _holes(line: list[str]) -> list[int]:
    widths, run = [], 0
    for cell in [*line, "|"]:
        if cell == ".":
            run += 1
        elif run:
            widths.append(run)
            run = 0
    return widths


def picture(panels: list[dict[str, Any]], cells: list[list[str]]) -> str:
    letters = string.ascii_uppercase + string.ascii_lowercase + string.digits
    legend = [f"{letters[i % len(letters)]} {p['title']}" for i, p in enumerate(panels)]
    return "\n".join(["".join(line) for line in cells] + legend)


def test_the_overview_fits_a_1080p_kiosk_without_holes(registry: Registry) -> None:
    for name in ("zh/overview.json", "en/overview.json"):
        panels = build_dashboards(registry)[name]["panels"]
        cells, problems = grid(panels)
        if len(cells) > rows_on_screen():
            problems.append(f"{len(cells)} rows tall; a 1080p screen shows {rows_on_screen()}")
        assert not problems, f"{name}:\n" + "\n".join(problems) + "\n" + picture(panels, cells)


def test_the_map_and_the_alerts_are_at_the_top(registry: Registry) -> None:
    panels = build_dashboards(registry)["en/overview.json"]["panels"]
    at_top = {p["type"] for p in panels if p["gridPos"]["y"] == 0}
    assert {"geomap", "stat"} <= at_top
    alerts = [p for p in panels if p["title"].startswith("Active alerts")]
    assert alerts
    assert all(p["gridPos"]["y"] < 13 for p in alerts)


def test_the_checker_sees_overlaps_and_holes() -> None:
    panels = [
        {"title": "a", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 2}},
        {"title": "b", "gridPos": {"x": 10, "y": 1, "w": 4, "h": 1}},
    ]
    cells, problems = grid(panels)
    assert "'b' overlaps at column 10, row 1" in problems
    assert "a hole 12 columns wide in row 0" in problems
    assert "".join(cells[1]) == "AAAAAAAAAA##BB" + "." * 10
    assert rows_on_screen() == 28


def test_each_domain_board_opens_on_its_wall_critical_row(registry: Registry) -> None:
    """Online share and alerts per type come first, above the per-metric graphs."""
    checked = []
    for name, board in build_dashboards(registry).items():
        if name.split("/")[1].removesuffix(".json") not in registry.domains:
            continue
        first = [p for p in board["panels"] if p["gridPos"]["y"] == 0]
        assert first, name
        assert all(p["type"] == "stat" for p in first), name
        checked.append(name)
    assert len(checked) == 2 * len(registry.domains_in_use())
