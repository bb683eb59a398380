"""All walls from the registry, as Grafana dashboard JSON, and the files under grafana_dashboards/.

`build_dashboards` is the single source of what the walls are; `export` writes it to
`<dir>/<lang>/<slug>.json`, with the overview map's GeoJSON layer under `<dir>/maps/`
(`map_files`), and `differences` says which committed files no longer match either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from grafana_dashboards.alert_board import alert_board
from grafana_dashboards.console_links import DEFAULT_CONSOLE_URL
from grafana_dashboards.domains import domain_board
from grafana_dashboards.drilldown import drilldown_board
from grafana_dashboards.i18n import Lang
from grafana_dashboards.map_files import MAP_FILES_DIR, map_files
from grafana_dashboards.overview import overview_board
from grafana_dashboards.subdistrict_map import checked_tile_url
from schemas.geography import Geography, load_geography
from schemas.registry import Registry

DASHBOARDS_DIR = Path(__file__).parent
Board = dict[str, Any]


def _makers(
    registry: Registry, geography: Geography, console_url: str, tile_url: str | None
) -> dict[str, Callable[[Lang], dashboard.Dashboard]]:
    makers: dict[str, Callable[[Lang], dashboard.Dashboard]] = {
        "overview": lambda lang: overview_board(registry, geography, lang, tile_url)
    }
    for domain in registry.domains_in_use():  # a declared domain without types has no wall
        makers[domain.code] = lambda lang, d=domain: domain_board(registry, d, lang)  # type: ignore[misc]
    makers["sensor"] = lambda lang: drilldown_board(lang, console_url)
    makers["alerts"] = lambda lang: alert_board(lang, console_url)
    return makers


def to_json(board: dashboard.Dashboard) -> Board:
    encoded: Board = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return encoded


def build_dashboards(
    registry: Registry,
    geography: Geography | None = None,
    console_url: str = DEFAULT_CONSOLE_URL,
    tile_url: str | None = None,
) -> dict[str, Board]:
    """Relative file name (`zh/overview.json`) -> dashboard JSON, for every language. Titles name
    the places of `geography` (left out: the shipped default, which the committed files show);
    alert and sensor tables link to the ops console at `console_url` (GrafanaError if it is no
    http(s) URL; the committed files hold the gateway's default address); the overview map
    shows no tiles unless given a deployment's `tile_url` (GrafanaError if malformed)."""
    places = load_geography() if geography is None else geography
    tiles = None if tile_url is None else checked_tile_url(tile_url)
    return {
        f"{lang.value}/{slug}.json": to_json(make(lang))
        for lang in Lang
        for slug, make in _makers(registry, places, console_url, tiles).items()
    }


def render(board: Board) -> str:
    return json.dumps(board, ensure_ascii=False, indent=2) + "\n"


def export(
    registry: Registry,
    directory: Path = DASHBOARDS_DIR,
    geography: Geography | None = None,
    console_url: str = DEFAULT_CONSOLE_URL,
    tile_url: str | None = None,
) -> list[Path]:
    """Write every dashboard and the map files; remove generated files that no longer have a
    dashboard. Returns the dashboards' paths."""
    boards = build_dashboards(registry, geography, console_url, tile_url)
    written = []
    for relative, board in boards.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(board), encoding="utf-8")
        written.append(path)
    maps = _map_files(geography)
    for relative, content in maps.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    for path in (directory / MAP_FILES_DIR).glob("*.geojson"):
        if f"{MAP_FILES_DIR}/{path.name}" not in maps:
            path.unlink()
    for lang in Lang:
        for path in (directory / lang.value).glob("*.json"):
            if f"{lang.value}/{path.name}" not in boards:
                path.unlink()
    return written


def _map_files(geography: Geography | None) -> dict[str, str]:
    return map_files(load_geography() if geography is None else geography)


def differences(
    registry: Registry,
    directory: Path = DASHBOARDS_DIR,
    geography: Geography | None = None,
    console_url: str = DEFAULT_CONSOLE_URL,
    tile_url: str | None = None,
) -> list[str]:
    """Files that are missing, stale or left over, relative to `directory`."""
    expected = {
        name: render(board)
        for name, board in build_dashboards(registry, geography, console_url, tile_url).items()
    }
    expected.update(_map_files(geography))
    found = {
        f"{lang.value}/{p.name}" for lang in Lang for p in (directory / lang.value).glob("*.json")
    }
    found |= {f"{MAP_FILES_DIR}/{p.name}" for p in (directory / MAP_FILES_DIR).glob("*.geojson")}
    problems = [f"{name}: missing" for name in sorted(set(expected) - found)]
    problems += [f"{name}: not generated any more" for name in sorted(found - set(expected))]
    for name in sorted(set(expected) & found):
        if (directory / name).read_text(encoding="utf-8") != expected[name]:
            problems.append(f"{name}: differs from the generator's output")
    return problems
