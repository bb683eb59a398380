"""The city overview wall: the map and the alerts, vital signs per domain, ingest health."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from grafana_dashboards.alert_counts import alerts_by_domain_panel, alerts_by_grade_panel
from grafana_dashboards.boards import Layout, board, online_window_variable
from grafana_dashboards.i18n import Lang, overview_title, text
from grafana_dashboards.ingest_health import ingest_health
from grafana_dashboards.subdistrict_map import map_sql, subdistrict_map
from grafana_dashboards.vital_signs import vital_signs
from schemas.geography import Geography
from schemas.registry import Registry


def overview_board(
    registry: Registry, geography: Geography, lang: Lang, tile_url: str | None = None
) -> dashboard.Dashboard:
    """One 1920x1080 screen (28 grid rows; tests/grafana_dashboards/test_kiosk_layout.py): the
    map and the alerts at the top, the vital signs of every domain across, ingest health at the
    bottom."""
    title = overview_title(geography, lang)
    target = board("overview", title, lang, refresh="30s").with_variable(online_window_variable())
    layout = Layout(target, lang)
    the_map = subdistrict_map(
        text("map", lang),
        map_sql(lang),
        lang=lang,
        registry=registry,
        tile_url=tile_url,
        width=10,
        height=13,
    )
    layout.add(the_map)
    layout.stack(
        [
            alerts_by_grade_panel(lang, width=14, height=4),
            alerts_by_domain_panel(registry, lang, width=14, height=9),
        ]
    )
    vital_signs(layout, registry, lang)
    ingest_health(layout, registry, lang)
    return target
