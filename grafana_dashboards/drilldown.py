"""Sensor drill-down: pick subdistricts, a type and sensors; one graph per metric of the type.

The metric graphs repeat over the `metric` variable, so the board needs no code per type: the
variable's query lists the chosen type's metrics from the database. The sensor and alert tables
link to the ops console's pages of the same sensor and alert (`console_links`).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards import panels, sql, tables
from grafana_dashboards.board_links import board_link
from grafana_dashboards.boards import (
    Layout,
    board,
    online_window_variable,
    query_variable,
    subdistrict_variable,
)
from grafana_dashboards.cell_words import ATTENTION, SETTLED, ops_shown
from grafana_dashboards.console_links import (
    FINGERPRINT,
    alert_links,
    console_url_variable,
    sensor_link,
)
from grafana_dashboards.i18n import Lang, name_column, text
from grafana_dashboards.labels import grade_labels

TYPE = "${type:sqlstring}"
METRIC = "${metric:sqlstring}"
SENSORS = "${sensor:sqlstring}"


def type_variable(lang: Lang) -> dashboard.QueryVariable:
    query = (
        f"SELECT name AS __value, {name_column(lang)} AS __text FROM sensor_types "
        "ORDER BY domain, name"
    )
    return query_variable("type", text("type", lang), query, multi=False, all=False)


def sensor_variable(lang: Lang) -> dashboard.QueryVariable:
    query = f"""SELECT s.external_id AS __value,
       s.external_id || ' ' || coalesce(s.name, '') AS __text
FROM sensors s JOIN subdistricts d ON d.id = s.subdistrict_id
WHERE s.sensor_type_id = {sql.type_id(TYPE)} AND d.code IN ({sql.SUBDISTRICTS})
ORDER BY s.external_id
LIMIT 500"""
    # no "All": a drill-down is about a few sensors; Grafana starts with the first one
    return query_variable("sensor", text("sensor_var", lang), query, multi=True, all=False)


def metric_variable(lang: Lang) -> dashboard.QueryVariable:
    query = f"""SELECT m.name AS __value, m.{name_column(lang)} || ' (' || m.unit || ')' AS __text
FROM metrics m
WHERE m.sensor_type_id = {sql.type_id(TYPE)}
ORDER BY m.id"""
    return query_variable("metric", text("metric", lang), query, multi=True, all=True)


SENSOR_COLUMNS = ("sensor", "name", "subdistrict", "online", "status_changed_at", "last_report")
SENSOR_ALERT_COLUMNS = (
    "grade", "rule_id", "sensor", "phase", "ops", "value", "firing_since", "resolved_at",
    "acknowledged_at", "closed_at",
)  # fmt: skip


def sensors_table_sql(lang: Lang) -> str:
    return f"""SELECT s.external_id AS sensor, s.name, d.{name_column(lang)} AS subdistrict,
       o.online, s.status_changed_at, l.ts AS last_report
FROM sensors s
JOIN subdistricts d ON d.id = s.subdistrict_id
{sql.ONLINE_AT_RANGE_END}
LEFT JOIN LATERAL (
    SELECT max(r.ts) AS ts FROM readings r
    WHERE r.sensor_id = s.id AND r.ts > $__timeTo()::timestamptz - interval '1 day'
      AND r.ts <= $__timeTo()
) l ON true
WHERE s.external_id IN ({SENSORS})
ORDER BY s.external_id"""


def metric_series_sql(lang: Lang) -> str:
    samples = sql.samples(TYPE, METRIC, lang, f" AND s.external_id IN ({SENSORS})")
    return f"""SELECT $__timeGroupAlias(r.t, $__interval), r.sensor AS metric,
       sum(r.total) / sum(r.n) AS value
FROM ({samples}) r
GROUP BY 1, 2
ORDER BY 1, 2"""


STATUS_SQL = f"""SELECT x.time, x.metric, x.value FROM (
    SELECT $__timeFrom()::timestamptz AS time, s.external_id AS metric,
           (SELECT st.online::int FROM sensor_status st
            WHERE st.sensor_id = s.id AND st.ts <= $__timeFrom()
            ORDER BY st.ts DESC LIMIT 1) AS value
    FROM sensors s WHERE s.external_id IN ({SENSORS})
    UNION ALL
    SELECT st.ts, s.external_id, st.online::int
    FROM sensor_status st JOIN sensors s ON s.id = st.sensor_id
    WHERE s.external_id IN ({SENSORS}) AND $__timeFilter(st.ts)
) x
WHERE x.value IS NOT NULL
ORDER BY 1, 2"""


def sensor_alerts_sql(lang: Lang) -> str:
    return f"""SELECT {grade_labels(lang, "a.grade")} AS grade, a.rule_id, a.subject_id AS sensor,
       a.phase, {ops_shown("a")} AS ops, a.value, a.firing_since, a.resolved_at,
       a.acknowledged_at, a.closed_at, a.fingerprint
FROM alerts a
WHERE a.subject_kind = 'sensor' AND a.subject_id IN ({SENSORS})
  AND a.phase <> 'inactive'
ORDER BY {sql.GRADE_RANK.format(col="a.grade")} DESC, a.firing_since DESC NULLS LAST
LIMIT 200"""


def just_this_sensor(lang: Lang) -> cogbuilder.Builder[models.DashboardLink]:
    """A row's link to this board narrowed to the row's sensor (the other choices kept)."""
    return board_link(
        text("just_this_sensor", lang),
        "sensor",
        lang,
        {"sensor": "${__data.fields.sensor}"},
        carry=("subdistrict", "type", "metric"),
    )


def drilldown_board(lang: Lang, console_url: str) -> dashboard.Dashboard:
    target = (
        board("sensor", text("sensor", lang), lang)
        .with_variable(subdistrict_variable(lang))
        .with_variable(type_variable(lang))
        .with_variable(sensor_variable(lang))
        .with_variable(metric_variable(lang))
        .with_variable(online_window_variable())
        .with_variable(console_url_variable(console_url, lang))
    )
    layout = Layout(target, lang)
    sensors = tables.rows_table(
        text("sensor_table", lang), sensors_table_sql(lang), lang, shown=SENSOR_COLUMNS, height=7
    )
    layout.add(
        tables.with_overrides(
            sensors.data_links([just_this_sensor(lang)]), [sensor_link("sensor", lang)]
        )
    )
    series = (
        panels.time_series("${metric:text}", metric_series_sql(lang), unit="none")
        .repeat("metric")
        .repeat_direction("h")
        .max_per_row(2)
    )
    layout.add(series)
    # the sensors table's colours (cell_words): online settled, offline needing attention
    online = {1: (text("online_state", lang), SETTLED), 0: (text("offline_state", lang), ATTENTION)}
    layout.add(
        tables.state_timeline(
            text("status_history", lang), STATUS_SQL, tables.value_texts(online), lang, height=7
        )
    )
    alerts = tables.rows_table(
        text("sensor_alerts", lang),
        sensor_alerts_sql(lang),
        lang,
        shown=SENSOR_ALERT_COLUMNS,
        hidden=(FINGERPRINT,),
        no_value="no_alerts",
        height=7,
    ).data_links([*alert_links(lang), just_this_sensor(lang)])
    layout.add(tables.with_overrides(alerts, [sensor_link("sensor", lang)]))
    return target
