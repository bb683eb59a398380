"""The alert board: alerts firing by grade, the timeline, open alerts, handling times.

Open alerts link to the ops console's page of each alert (`console_links`), where they are
handled, and to the sensor drill-down of the alert's sensor; the list keeps an alert closed
while it still fires, like the console's duty list.

Times to acknowledge and to close are measured in the audit trail (`alert_transitions`): from an
episode's `firing` transition to the `acknowledged` or `closed` one that followed it.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards import panels, sql, tables
from grafana_dashboards.alert_counts import alerts_by_grade_panel
from grafana_dashboards.boards import Layout, board, grade_variable, subdistrict_variable, uid
from grafana_dashboards.cell_words import ops_shown
from grafana_dashboards.console_links import FINGERPRINT, alert_links, console_url_variable
from grafana_dashboards.i18n import Lang, name_column, text
from grafana_dashboards.labels import grade_colours, grade_labels

GRADES = "${grade:sqlstring}"
IN_PLACE = f"(a.subdistrict IS NULL OR a.subdistrict IN ({sql.SUBDISTRICTS}))"
# Handling times: quick is calm, over an hour needs someone; not in grade colours, which would
# read as an alert's grade on the wall.
DURATION_STEPS = ((None, "green"), (900.0, "text"), (3600.0, "purple"))


def timeline_sql(lang: Lang) -> str:
    grade = grade_labels(lang, "t.grade")
    return f"""SELECT $__timeGroupAlias(t.at, $__interval), {grade} AS metric,
       count(*) AS value
FROM alert_transitions t
JOIN alerts a ON a.fingerprint = t.fingerprint
WHERE $__timeFilter(t.at) AND t.kind IN ('firing', 'grade_up') AND t.grade IN ({GRADES})
  AND {IN_PLACE}
GROUP BY 1, 2
ORDER BY 1, 2"""


# What open_alerts_sql returns: shown in this order, and hidden (read by the rows' links).
OPEN_ALERT_COLUMNS = (
    "grade", "rule_id", "subject", "subdistrict", "value", "phase", "ops", "assignee",
    "firing_since", "acknowledged_at",
)  # fmt: skip
BOARD_LINK_COLUMNS = ("sensor_type", "sensor_id", "subdistrict_code")


def open_alerts_sql(lang: Lang) -> str:
    """Also the sensor board's variables for the row's link (`sensor_board_link`): the sensor's
    type and id when the subject is a sensor, else empty; its subdistrict, else all of them
    (Grafana's `$__all`, spelt with chr(36) so that Grafana does not read it as a variable)."""
    return f"""SELECT {grade_labels(lang, "a.grade")} AS grade, a.rule_id, a.subject_id AS subject,
       d.{name_column(lang)} AS subdistrict, a.value, a.phase, {ops_shown("a")} AS ops,
       a.assignee, a.firing_since, a.acknowledged_at, a.fingerprint,
       t.name AS sensor_type, s.external_id AS sensor_id,
       coalesce(a.subdistrict, chr(36) || '__all') AS subdistrict_code
FROM alerts a
LEFT JOIN subdistricts d ON d.code = a.subdistrict
LEFT JOIN sensors s ON a.subject_kind = 'sensor' AND s.external_id = a.subject_id
LEFT JOIN sensor_types t ON t.id = s.sensor_type_id
WHERE a.phase IN ('pending', 'firing', 'resolved')
  AND (a.ops <> 'closed' OR a.phase IN ('pending', 'firing'))
  AND a.grade IN ({GRADES}) AND {IN_PLACE}
ORDER BY {sql.GRADE_RANK.format(col="a.grade")} DESC, a.firing_since DESC NULLS LAST
LIMIT 500"""


def sensor_board_link(lang: Lang) -> cogbuilder.Builder[models.DashboardLink]:
    """The row's second link: the sensor drill-down at the alert's sensor, in the same time
    range. Grafana shows a data link on every row alike (it has no per-row condition), so for a
    subdistrict- or district-wide alert the type and sensor are empty and the board opens at
    the place with its own first type and sensor."""
    fields = "&".join(
        f"var-{var}=${{__data.fields.{column}}}"
        for var, column in zip(("type", "sensor", "subdistrict"), BOARD_LINK_COLUMNS, strict=True)
    )
    return (
        dashboard.DashboardLink(text("open_sensor_board", lang))
        .url(f"/d/{uid('sensor', lang)}?{fields}&${{__url_time_range}}")
        .target_blank(False)
    )


def _handling(kind: str) -> str:
    """(at, seconds) of each `kind` transition in the range, measured from its episode's firing."""
    return f"""SELECT h.at, extract(epoch FROM h.at - f.at) AS seconds
    FROM alert_transitions h
    JOIN alerts a ON a.fingerprint = h.fingerprint
    CROSS JOIN LATERAL (
        SELECT p.at FROM alert_transitions p
        WHERE p.fingerprint = h.fingerprint AND p.kind = 'firing' AND p.at <= h.at
        ORDER BY p.at DESC LIMIT 1
    ) f
    WHERE h.kind = {sql.quote(kind)} AND $__timeFilter(h.at) AND h.grade IN ({GRADES})
      AND {IN_PLACE}"""


def handling_stat_sql(kind: str, lang: Lang) -> str:
    median, p90 = text("median", lang), text("p90", lang)
    return f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.seconds) AS "{median}",
       percentile_cont(0.9) WITHIN GROUP (ORDER BY x.seconds) AS "{p90}"
FROM ({_handling(kind)}) x"""


def handling_series_sql(lang: Lang) -> str:
    ack, close = sql.quote(text("time_to_ack", lang)), sql.quote(text("time_to_close", lang))
    return f"""SELECT $__timeGroupAlias(x.at, $__interval), x.metric,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY x.seconds) AS value
FROM (
    SELECT y.at, {ack} AS metric, y.seconds FROM ({_handling("acknowledged")}) y
    UNION ALL
    SELECT z.at, {close}, z.seconds FROM ({_handling("closed")}) z
) x
GROUP BY 1, 2
ORDER BY 1, 2"""


def alert_board(lang: Lang, console_url: str) -> dashboard.Dashboard:
    target = (
        board("alerts", text("alerts", lang), lang, refresh="30s")
        .time("now-7d", "now")
        .with_variable(grade_variable(lang))
        .with_variable(subdistrict_variable(lang))
        .with_variable(console_url_variable(console_url, lang))
    )
    layout = Layout(target, lang)
    where = f"a.grade IN ({GRADES}) AND {IN_PLACE}"
    layout.add(alerts_by_grade_panel(lang, where, carry=("subdistrict",), width=8, height=5))
    for kind, key in (("acknowledged", "time_to_ack"), ("closed", "time_to_close")):
        layout.add(
            panels.big_number(
                text(key, lang),
                handling_stat_sql(kind, lang),
                unit="s",
                thresholds=panels.fixed_steps(*DURATION_STEPS),
                decimals=0,
                width=8,
                height=5,
            )
        )
    timeline = panels.time_series(
        text("timeline", lang), timeline_sql(lang), unit="short", bars=True, width=24
    ).overrides(panels.colour_by_name(grade_colours(lang)))
    layout.add(timeline)
    open_alerts = tables.rows_table(
        text("open_alerts", lang),
        open_alerts_sql(lang),
        lang,
        shown=OPEN_ALERT_COLUMNS,
        hidden=(FINGERPRINT, *BOARD_LINK_COLUMNS),
        no_value="no_alerts",
        height=10,
    ).data_links([*alert_links(lang), sensor_board_link(lang)])
    layout.add(open_alerts)
    durations = panels.time_series(
        text("durations", lang), handling_series_sql(lang), unit="s", width=24
    ).interval("1h")
    layout.add(durations)
    return target
