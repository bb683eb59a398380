"""The overview map works on a network without internet: its basemap is the subdistrict
polygons Grafana serves itself (exported beside the dashboards), and the only tile server it
ever names is the one a deployment sets (`cityvitals grafana export --tile-url`)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from geojson_pydantic import FeatureCollection
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from shapely.geometry import shape
from typer.testing import CliRunner

from cityvitals.cli import app
from grafana_dashboards.errors import GrafanaError
from grafana_dashboards.generate import DASHBOARDS_DIR, build_dashboards, differences, export
from grafana_dashboards.i18n import Lang, text
from grafana_dashboards.map_files import GRAFANA_SRC, SUBDISTRICTS_FILE, map_files
from grafana_dashboards.subdistrict_map import checked_tile_url, map_sql, subdistrict_map
from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, Geography, load_geography
from schemas.registry import Registry

runner = CliRunner()
TILES = "https://tiles.internal.example/wmts/{z}/{x}/{y}.png"
# Grafana's online defaults and the public tile servers its layers know.
ONLINE = re.compile(r"osm|openstreetmap|carto|arcgis|esri|stamen|mapbox", re.IGNORECASE)
URL = re.compile(r"https?://[^\s\"']+")


def _map_json(lang: Lang, registry: Registry, tile_url: str | None = None) -> dict[str, Any]:
    panel = subdistrict_map(
        text("map", lang), map_sql(lang), lang=lang, registry=registry, tile_url=tile_url
    )
    encoded: dict[str, Any] = json.loads(json.dumps(panel.build(), cls=JSONEncoder))
    return encoded


def _geomaps(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] == "geomap"]


@pytest.mark.parametrize("lang", list(Lang))
def test_by_default_the_map_names_no_tile_server_and_its_basemap_is_the_polygons(
    lang: Lang, registry: Registry
) -> None:
    built = build_dashboards(registry)
    panels = [*_geomaps(built[f"{lang.value}/overview.json"]), _map_json(lang, registry)]
    for panel in panels:
        dumped = json.dumps(panel, ensure_ascii=False)
        assert ONLINE.search(dumped) is None, ONLINE.search(dumped)
        assert URL.findall(dumped) == []
        basemap = panel["options"]["basemap"]
        # Not left to Grafana: a basemap without a type, or "default", is CARTO's tiles.
        assert basemap["type"] == "geojson"
        assert basemap["config"]["src"] == GRAFANA_SRC
        assert basemap["tooltip"] is False
        assert [layer["type"] for layer in panel["options"]["layers"]] == ["markers"]
    basemap = panels[-1]["options"]["basemap"]  # labelled in the board's language
    assert basemap["config"]["style"]["text"]["field"] == f"name_{lang.value}"


@pytest.mark.parametrize("lang", list(Lang))
def test_a_tile_url_is_the_basemap_under_the_polygons_and_the_only_url(
    lang: Lang, registry: Registry
) -> None:
    panel = _map_json(lang, registry, tile_url=f"  {TILES} ")
    dumped = json.dumps(panel, ensure_ascii=False)
    assert URL.findall(dumped) == [TILES]
    assert ONLINE.search(dumped) is None
    options = panel["options"]
    assert options["basemap"]["type"] == "xyz"
    assert options["basemap"]["config"]["url"] == TILES
    polygons, markers = options["layers"]
    assert (polygons["type"], polygons["config"]["src"]) == ("geojson", GRAFANA_SRC)
    assert markers["type"] == "markers"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("tiles.example/{z}/{x}/{y}.png", "is not an http(s) URL with a host"),
        ("ftp://tiles.example/{z}/{x}/{y}.png", "is not an http(s) URL with a host"),
        ("https:///{z}/{x}/{y}.png", "is not an http(s) URL with a host"),
        ("https://tiles.example/{z}/{x}.png", "lacks the placeholder(s) {y}"),
        ("https://tiles.example/tile.png", "lacks the placeholder(s) {z}, {x}, {y}"),
    ],
)
def test_a_bad_tile_url_is_refused_naming_the_option(
    url: str, complaint: str, tmp_path: Path
) -> None:
    with pytest.raises(GrafanaError, match=re.escape(complaint)):
        checked_tile_url(url)
    refused = runner.invoke(
        app, ["grafana", "export", "--output", str(tmp_path), "--tile-url", url]
    )
    assert refused.exit_code == 1
    assert f"--tile-url: the tile URL {url!r} {complaint}" in refused.output
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_grafanas_reversed_y_placeholder_is_accepted() -> None:
    url = "http://10.0.0.5:8080/tiles/{z}/{x}/{-y}.png"
    assert checked_tile_url(url) == url


def test_export_writes_the_polygons_and_check_covers_them(tmp_path: Path) -> None:
    out = str(tmp_path)
    written = runner.invoke(app, ["grafana", "export", "--output", out, "--tile-url", TILES])
    assert written.exit_code == 0, written.output
    geojson = tmp_path / SUBDISTRICTS_FILE
    assert geojson.read_text(encoding="utf-8") == map_files(load_geography())[SUBDISTRICTS_FILE]
    check = ["grafana", "export", "--check", "--output", out, "--tile-url", TILES]
    assert runner.invoke(app, check).exit_code == 0
    geojson.write_text(geojson.read_text(encoding="utf-8") + " ", encoding="utf-8")
    stale = runner.invoke(app, check)
    assert stale.exit_code == 1
    assert f"{SUBDISTRICTS_FILE}: differs from the generator's output" in stale.output
    geojson.unlink()
    assert f"{SUBDISTRICTS_FILE}: missing" in runner.invoke(app, check).output


def test_a_left_over_map_file_is_reported_and_removed(registry: Registry, tmp_path: Path) -> None:
    shutil.copytree(DASHBOARDS_DIR, tmp_path / "walls", ignore=shutil.ignore_patterns("*.py"))
    walls = tmp_path / "walls"
    assert differences(registry, walls) == []
    (walls / "maps" / "old.geojson").write_text("{}", encoding="utf-8")
    assert differences(registry, walls) == ["maps/old.geojson: not generated any more"]
    export(registry, walls)
    assert differences(registry, walls) == []
    assert not (walls / "maps" / "old.geojson").exists()


def _polygons_of(collection: dict[str, Any]) -> dict[str, Any]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]}


@pytest.mark.parametrize(
    "paths",
    [
        [DEFAULT_GEOGRAPHY],
        [DEFAULT_GEOGRAPHY, *sorted((GEOGRAPHY_DIR / "examples").glob("*.geojson"))],
    ],
    ids=["shipped", "several districts"],
)
def test_the_exported_geojson_is_valid_and_equals_the_geographys_polygons(
    paths: list[Path],
) -> None:
    geography: Geography = load_geography(paths)
    content = map_files(geography)[SUBDISTRICTS_FILE]
    collection = json.loads(content)
    FeatureCollection.model_validate(collection)  # RFC 7946's types, rings closed
    polygons = _polygons_of(collection)
    assert list(polygons) == [s.code for s in geography]  # every one, in configuration order
    for sub in geography:
        assert polygons[sub.code].equals(sub.area), sub.code
        assert polygons[sub.code].is_valid, sub.code
    names = {f["properties"]["code"]: f["properties"] for f in collection["features"]}
    for sub in geography:
        assert (names[sub.code]["name_zh"], names[sub.code]["name_en"]) == (sub.zh, sub.en)
        assert names[sub.code]["district"] == sub.district
