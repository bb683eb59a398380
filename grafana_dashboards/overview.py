"""The city overview wall: vital signs per domain, the subdistrict map, alerts, ingest health."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from grafana_dashboards import panels, sql
from grafana_dashboards.boards import Layout, board, online_window_variable
from grafana_dashboards.domains import latest_aggregate, lookback
from grafana_dashboards.i18n import Lang, domain_name, grade_name, name, overview_title, text
from grafana_dashboards.ingest_health import ingest_health
from grafana_dashboards.labels import domain_labels, grade_colours
from grafana_dashboards.subdistrict_map import map_sql, subdistrict_map
from grafana_dashboards.units import metric_unit
from schemas.geography import Geography
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Metric, MetricKind, SensorType


def vital_metric(sensor_type: SensorType) -> str:
    """The metric that stands for the type on the wall: the first one (in the YAML file's order)
    that carries alert thresholds, else the first one; an enumerated state only when the type
    has nothing else (a district-wide sum of state indexes would mean nothing)."""
    candidates = [n for n, m in sensor_type.metrics.items() if m.states is None]
    candidates = candidates or list(sensor_type.metrics)
    for metric_name in candidates:
        if sensor_type.metrics[metric_name].thresholds is not None:
            return metric_name
    return candidates[0]


def _vital_decimals(metric: Metric) -> int:
    return 0 if metric.kind is MetricKind.STATE else metric.precision


def vital_signs(layout: Layout, registry: Registry, lang: Lang) -> None:
    for domain in registry.domains_in_use():
        types = sorted(registry.by_domain(domain.code), key=lambda t: t.name)
        layout.row(f"{text('vital_signs', lang)} · {domain_name(domain, lang)}")
        width = max(3, min(6, 24 // len(types)))
        for sensor_type in types:
            metric_name = vital_metric(sensor_type)
            metric = sensor_type.metrics[metric_name]
            query = sql.latest_district(
                sql.quote(sensor_type.name),
                sql.quote(metric_name),
                lookback(sensor_type),
                latest_aggregate(metric),
            )
            title = f"{name(sensor_type.display_name, lang)} · {name(metric.display_name, lang)}"
            layout.add(
                panels.big_number(
                    title,
                    query,
                    unit=metric_unit(metric),
                    thresholds=panels.metric_thresholds(metric),
                    decimals=_vital_decimals(metric),
                    width=width,
                )
            )


def alerts_by_grade_sql(lang: Lang, where: str = "TRUE") -> str:
    columns = ",\n       ".join(
        f'count(*) FILTER (WHERE grade = {sql.quote(g.value)}) AS "{grade_name(g, lang)}"'
        for g in reversed(GRADES_BY_SEVERITY)
    )
    return f"SELECT {columns}\nFROM alerts a\nWHERE a.phase = 'firing' AND {where}"


def alerts_by_domain_sql(registry: Registry, lang: Lang) -> str:
    """Every domain with types, in wall order, with its firing alerts (0 too)."""
    values = ", ".join(
        f"({sql.quote(d.code)}, {i})" for i, d in enumerate(registry.domains_in_use())
    )
    return f"""SELECT {domain_labels(registry, lang, "dom.code")} AS domain,
       count(a.fingerprint) AS firing
FROM (VALUES {values}) AS dom(code, ord)
LEFT JOIN alerts a ON a.domain = dom.code AND a.phase = 'firing'
GROUP BY dom.code, dom.ord
ORDER BY dom.ord"""


def overview_board(registry: Registry, geography: Geography, lang: Lang) -> dashboard.Dashboard:
    title = overview_title(geography, lang)
    target = board("overview", title, lang, refresh="30s").with_variable(online_window_variable())
    layout = Layout(target)
    vital_signs(layout, registry, lang)
    layout.row(text("map", lang))
    layout.add(subdistrict_map(text("map", lang), map_sql(lang), width=12, height=14))
    by_grade = panels.big_number(
        text("active_by_grade", lang),
        alerts_by_grade_sql(lang),
        unit="short",
        thresholds=panels.fixed_steps((None, "text")),
        width=12,
        height=5,
    ).overrides(panels.colour_by_name(grade_colours(lang)))
    layout.add(by_grade)
    layout.add(
        panels.bars_by_row(
            text("active_by_domain", lang),
            alerts_by_domain_sql(registry, lang),
            unit="short",
            thresholds=panels.fixed_steps((None, "green"), (1.0, "orange"), (5.0, "red")),
            width=12,
            height=9,
        )
    )
    ingest_health(layout, registry, lang)
    return target
