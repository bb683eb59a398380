"""The overview's map: the subdistricts, coloured by their worst active alert."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, geomap
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import geomap as geomap_models

from grafana_dashboards import sql
from grafana_dashboards.i18n import Lang, name_column
from grafana_dashboards.panels import GREEN, grade_steps
from grafana_dashboards.sql_target import DATASOURCE, Sql


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


def subdistrict_map(title: str, sql: str, *, width: int = 12, height: int = 14) -> geomap.Panel:
    """Markers at the subdistrict centres (`latitude`, `longitude` columns), coloured by the
    worst active alert grade (`worst_grade` 0..4), sized by the number of sensors."""
    markers = (
        common.MapLayerOptions()
        .type("markers")
        .name("subdistricts")
        .location(
            common.FrameGeometrySource()
            .mode(common_models.FrameGeometrySourceMode.COORDS)
            .latitude("latitude")
            .longitude("longitude")
        )
        .tooltip(True)
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "worst_grade", "fixed": GREEN},
                    "size": {"field": "sensors", "fixed": 8, "min": 8, "max": 30},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                    "opacity": 0.7,
                    "text": {"field": "name", "fixed": "", "mode": "field"},
                    "textConfig": {"fontSize": 12, "offsetY": -18, "textAlign": "center"},
                },
            }
        )
    )
    return (
        geomap.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .span(width)
        .height(height)
        .view(geomap.MapViewConfig().id("fit").zoom(12))
        .basemap(common.MapLayerOptions().type("osm-standard").name("basemap"))
        .layers([markers])
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(False))
        .tooltip(geomap.TooltipOptions().mode(geomap_models.TooltipMode.DETAILS))
        .thresholds(grade_steps())
    )
