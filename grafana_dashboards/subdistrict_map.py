"""The overview's map: the subdistricts, coloured by their worst active alert, on a basemap that
needs no internet, each leading to the subdistrict on every domain board.

Basemap. Grafana 11.6's geomap (public/app/plugins/panel/geomap/) falls back to online tiles
whenever it is not given a layer of its own:
- GeomapPanel.tsx loads `options.basemap ?? DEFAULT_BASEMAP_CONFIG` through `initLayer(..., true)`;
- utils/layers.ts `initLayer`: `if (isBasemap && (!options?.type ||
  config.geomapDisableCustomBaseLayer)) { options = DEFAULT_BASEMAP_CONFIG; }`, i.e. type
  `default`, which layers/registry.ts `defaultBaseLayer.create` makes `[geomap]
  default_baselayer_config` or else `carto.create(...)`: CARTO's tiles;
- layers/basemaps/generic.ts, the `xyz` layer: `if (!cfg.url) { cfg.url = defaultXYZConfig.url`
  (ArcGIS's sample tiles). So neither "no basemap" nor an empty xyz layer is offline.
`initLayer` then resolves the type with `geomapLayerRegistry.getIfExists(options.type)`, a registry
of `[defaultBaseLayer, ...basemapLayers, ...dataLayers]` (the basemap-only filter is the editor's),
so the default basemap here is a `geojson` layer: the subdistrict polygons from
`map_files.GRAFANA_SRC`, served by Grafana itself. A deployment with a tile server of its own
(天地图, an internal one) passes its URL (`cityvitals grafana export --tile-url`): the tiles become
the basemap and the polygons the first layer above them. `[geomap] enable_custom_baselayers =
false` would bring the default (CARTO) back: deploy/README.md says to leave it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from grafana_foundation_sdk.builders import common, geomap
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import geomap as geomap_models

from grafana_dashboards import sql
from grafana_dashboards.board_links import board_link
from grafana_dashboards.errors import GrafanaError
from grafana_dashboards.i18n import Lang, domain_name, grade_name, name_column, text
from grafana_dashboards.map_files import GRAFANA_SRC
from grafana_dashboards.panels import GRADE_COLOURS, GREEN, Override, field_override, grade_steps
from grafana_dashboards.sql_target import DATASOURCE, Sql
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY

__all__ = ["SUBDISTRICT_VARIABLE", "checked_tile_url", "map_links", "map_sql", "subdistrict_map"]

SUBDISTRICT_VARIABLE = "subdistrict"  # boards.subdistrict_variable, on every domain board
_CODE = "code"  # the column the links read; hidden from the tooltip like the coordinates
_HIDDEN = (_CODE, "latitude", "longitude")
_TILE_PLACEHOLDERS = ("{z}", "{x}")
_OUTLINE = "#8e8e8e"  # neutral grey: no grade colour (blue reads as 蓝色预警)


def map_sql(lang: Lang) -> str:
    return f"""SELECT d.code, d.{name_column(lang)} AS name, d.lat AS latitude, d.lon AS longitude,
       count(s.id) AS sensors, count(s.id) FILTER (WHERE o.online) AS online,
       count(s.id) FILTER (WHERE NOT o.online) AS offline,
       coalesce(max(a.firing), 0) AS firing_alerts, coalesce(max(a.worst), 0) AS worst_grade
FROM subdistricts d
LEFT JOIN (sensors s {sql.ONLINE_AT_RANGE_END}) ON s.subdistrict_id = d.id
LEFT JOIN (
    SELECT subdistrict, count(*) AS firing, max({sql.GRADE_RANK.format(col="grade")}) AS worst
    FROM alerts WHERE phase = 'firing' GROUP BY subdistrict
) a ON a.subdistrict = d.code
GROUP BY d.id, d.code, d.{name_column(lang)}, d.lat, d.lon
ORDER BY d.id"""


def checked_tile_url(url: str) -> str:
    """A deployment's XYZ tile URL as the map uses it; GrafanaError naming the tile URL for
    anything but an http(s) URL with a host and the {z}, {x} and {y} (or {-y}) placeholders
    Grafana's XYZ layer fills in."""
    url = url.strip()
    parts = urlsplit(url)
    example = "https://tiles.example/{z}/{x}/{y}.png"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GrafanaError(
            f"the tile URL {url!r} is not an http(s) URL with a host, e.g. {example}"
        )
    missing = [p for p in _TILE_PLACEHOLDERS if p not in url]
    if "{y}" not in url and "{-y}" not in url:
        missing.append("{y}")
    if missing:
        raise GrafanaError(
            f"the tile URL {url!r} lacks the placeholder(s) {', '.join(missing)}, e.g. {example}"
        )
    return url


def _polygons(lang: Lang) -> common.MapLayerOptions:
    """Outline and a light fill, each polygon named; no tooltip of its own (the markers have
    the figures, and the file's properties are codes): geomap's hover skips layers with
    `tooltip: false` (utils/tooltip.ts, `layerFilter`: `options?.tooltip !== false`)."""
    style = {
        "color": {"fixed": _OUTLINE},
        "opacity": 0.12,
        "lineWidth": 1,
        "text": {"mode": "field", "field": f"name_{lang.value}", "fixed": ""},
        # Above the subdistrict's marker, which sits near the label's point.
        "textConfig": {"fontSize": 12, "offsetY": -16, "textAlign": "center"},
    }
    return (
        common.MapLayerOptions()
        .type("geojson")
        .name("subdistricts")
        .tooltip(False)
        .config({"src": GRAFANA_SRC, "rules": [], "style": style})
    )


def _tiles(url: str) -> common.MapLayerOptions:
    return (
        common.MapLayerOptions()
        .type("xyz")
        .name("tiles")
        .config({"url": checked_tile_url(url), "attribution": ""})
    )


def _markers(lang: Lang) -> common.MapLayerOptions:
    # No marker legend: Grafana labels its threshold steps by number ("< 1", "1+", ...), not by
    # grade; the grade names and colours are in the tooltip and the grade tiles beside the map.
    return (
        common.MapLayerOptions()
        .type("markers")
        .name(text("map_worst_grade", lang))
        .location(
            common.FrameGeometrySource()
            .mode(common_models.FrameGeometrySourceMode.COORDS)
            .latitude("latitude")
            .longitude("longitude")
        )
        .tooltip(True)
        .config(
            {
                "showLegend": False,
                "style": {
                    "color": {"field": "worst_grade", "fixed": GREEN},
                    "size": {"field": "sensors", "fixed": 8, "min": 8, "max": 30},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                    "opacity": 0.8,
                },
            }
        )
    )


def _grade_mapping(lang: Lang) -> list[dict[str, Any]]:
    """0 -> 无 in green, 1..4 -> the grade's name in its colour (the rank of sql.GRADE_RANK)."""
    labels = [(text("map_no_alert", lang), GREEN)]
    labels += [(grade_name(g, lang), GRADE_COLOURS[g]) for g in GRADES_BY_SEVERITY]
    options = {
        str(rank): {"text": label, "color": colour, "index": rank}
        for rank, (label, colour) in enumerate(labels)
    }
    return [{"type": "value", "options": options}]


def _field_overrides(lang: Lang) -> list[Override]:
    names = {
        "name": text("subdistrict", lang),
        "sensors": text("map_sensors", lang),
        "online": text("map_online", lang),
        "offline": text("map_offline", lang),
        "firing_alerts": text("map_firing", lang),
        "worst_grade": text("map_worst_grade", lang),
    }
    properties: dict[str, dict[str, object]] = {
        column: {"displayName": label} for column, label in names.items()
    }
    properties["worst_grade"]["mappings"] = _grade_mapping(lang)
    # Kept in the data (the markers and the links read them); components/DataHoverView.tsx
    # leaves out fields with `config.custom?.hideFrom?.tooltip`.
    hidden = {"tooltip": True, "legend": True, "viz": False}
    for column in _HIDDEN:
        properties[column] = {"custom.hideFrom": hidden}
    return [field_override(column, values) for column, values in properties.items()]


def map_links(registry: Registry, lang: Lang) -> list[cogbuilder.Builder[models.DashboardLink]]:
    """One link per domain board (named by the domain), opening it for the subdistrict hovered,
    with the wall's time range, in the same tab (a wall has no second tab to go back from)."""
    place = {SUBDISTRICT_VARIABLE: f"${{__data.fields.{_CODE}}}"}
    return [
        board_link(domain_name(domain, lang), domain.code, lang, place)
        for domain in registry.domains_in_use()
    ]


def subdistrict_map(
    title: str,
    sql: str,
    *,
    lang: Lang,
    registry: Registry,
    tile_url: str | None = None,
    width: int = 12,
    height: int = 14,
) -> geomap.Panel:
    """Markers at the subdistrict centres (`latitude`, `longitude` columns), coloured by the
    worst active alert grade (`worst_grade` 0..4), sized by the number of sensors, over the
    subdistrict polygons; links to every domain board of `registry` for the subdistrict (`code`).
    `tile_url`: a deployment's XYZ tiles under the polygons (GrafanaError if malformed)."""
    polygons = _polygons(lang)
    layers: list[cogbuilder.Builder[common_models.MapLayerOptions]] = [_markers(lang)]
    if tile_url is None:
        basemap = polygons
    else:
        basemap = _tiles(tile_url)
        layers.insert(0, polygons)  # the outlines above the tiles, the markers above both
    return (
        geomap.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .span(width)
        .height(height)
        .view(geomap.MapViewConfig().id("fit").zoom(12))
        .basemap(basemap)
        .layers(layers)
        .controls(
            geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(False).show_attribution(True)
        )
        .tooltip(geomap.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))
        .thresholds(grade_steps())
        .overrides(_field_overrides(lang))
        .data_links(map_links(registry, lang))
    )
