"""The city overview wall: vital signs per domain, the subdistrict map, alerts, ingest health."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from grafana_dashboards import panels, sql
from grafana_dashboards.boards import Layout, board, online_window_variable
from grafana_dashboards.domains import latest_aggregate, lookback
from grafana_dashboards.i18n import (
    Lang,
    domain_name,
    grade_name,
    name,
    name_column,
    overview_title,
    text,
)
from schemas.geography import Geography
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Metric, MetricKind, SensorType

LAG_STEPS = ((None, "green"), (120.0, "yellow"), (300.0, "orange"), (900.0, "red"))


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


def domain_labels(registry: Registry, lang: Lang, column: str) -> str:
    """The domain's name from domains.yaml; its code for one stored but no longer declared."""
    whens = " ".join(
        f"WHEN {sql.quote(d.code)} THEN {sql.quote(domain_name(d, lang))}"
        for d in registry.domains.values()
    )
    return f"CASE {column} {whens} ELSE {column} END"


def domain_colours(registry: Registry, lang: Lang) -> dict[str, str]:
    """Each domain's series in its colour from domains.yaml (by the name `domain_labels` gives)."""
    return {domain_name(d, lang): d.colour for d in registry.domains.values()}


def grade_labels(lang: Lang, column: str) -> str:
    whens = " ".join(
        f"WHEN {sql.quote(g.value)} THEN {sql.quote(grade_name(g, lang))}"
        for g in GRADES_BY_SEVERITY
    )
    return f"CASE {column} {whens} END"


def grade_colours(lang: Lang) -> dict[str, str]:
    return {grade_name(g, lang): panels.GRADE_COLOURS[g] for g in GRADES_BY_SEVERITY}


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
                    unit=panels.metric_unit(metric),
                    thresholds=panels.metric_thresholds(metric),
                    decimals=_vital_decimals(metric),
                    width=width,
                )
            )


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


def ingest_rate_sql(registry: Registry, lang: Lang) -> str:
    domain = domain_labels(registry, lang, "t.domain")
    return f"""SELECT $__timeGroupAlias(r.ts, $__interval), {domain} AS metric,
       count(*) * 60000.0 / $__interval_ms AS value
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN sensor_types t ON t.id = s.sensor_type_id
WHERE $__timeFilter(r.ts)
GROUP BY 1, 2
ORDER BY 1, 2"""


def ingest_lag_sql(registry: Registry, lang: Lang) -> str:
    return f"""SELECT {domain_labels(registry, lang, "t.domain")} AS domain,
       extract(epoch FROM $__timeTo()::timestamptz - max(r.ts)) AS lag
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN sensor_types t ON t.id = s.sensor_type_id
WHERE r.ts > $__timeTo()::timestamptz - interval '1 hour' AND r.ts <= $__timeTo()
GROUP BY t.domain
ORDER BY t.domain"""


DEAD_LETTERS_SQL = """SELECT $__timeGroupAlias(received_at, $__interval), reason AS metric,
       count(*) AS value
FROM dead_letters
WHERE $__timeFilter(received_at)
GROUP BY 1, 2
ORDER BY 1, 2"""

DEAD_LETTERS_TOTAL_SQL = """SELECT count(*) AS dead_letters
FROM dead_letters
WHERE $__timeFilter(received_at)"""


def overview_board(registry: Registry, geography: Geography, lang: Lang) -> dashboard.Dashboard:
    title = overview_title(geography, lang)
    target = board("overview", title, lang, refresh="30s").with_variable(online_window_variable())
    layout = Layout(target)
    vital_signs(layout, registry, lang)
    layout.row(text("map", lang))
    layout.add(panels.subdistrict_map(text("map", lang), map_sql(lang), width=12, height=14))
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
    layout.row(text("ingest", lang))
    rate = panels.time_series(
        text("ingest_rate", lang), ingest_rate_sql(registry, lang), unit="short"
    )
    layout.add(
        rate.time_from("3h").overrides(panels.colour_by_name(domain_colours(registry, lang)))
    )
    layout.add(
        panels.bars_by_row(
            text("ingest_lag", lang),
            ingest_lag_sql(registry, lang),
            unit="s",
            thresholds=panels.fixed_steps(*LAG_STEPS),
            decimals=0,
            width=4,
        )
    )
    dead = panels.time_series(
        text("dead_letters", lang), DEAD_LETTERS_SQL, unit="short", bars=True, width=5
    )
    layout.add(dead)
    layout.add(
        panels.big_number(
            text("dead_letters_total", lang),
            DEAD_LETTERS_TOTAL_SQL,
            unit="short",
            thresholds=panels.fixed_steps((None, "green"), (1.0, "yellow"), (100.0, "orange")),
            width=3,
            height=8,
        )
    )
    return target
