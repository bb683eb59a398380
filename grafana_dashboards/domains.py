"""One board per domain: every type of the domain in the registry, every metric of each type.

A type gets a health line (share of its sensors online, alerts firing) and a row with two panels
per metric: its history per subdistrict and its value per subdistrict now. What a panel shows
follows the metric's kind: gauges are averaged, counters shown as the increase per interval,
states as the number of sensors in that state. A new YAML type appears here on the next export.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, dashboard, stat
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards import panels, sql
from grafana_dashboards.board_links import board_link
from grafana_dashboards.boards import Layout, board, online_window_variable, subdistrict_variable
from grafana_dashboards.cell_words import ATTENTION
from grafana_dashboards.console_links import hidden_column
from grafana_dashboards.i18n import Lang, domain_name, grade_name, name, text
from grafana_dashboards.panels import PanelBuilder
from grafana_dashboards.units import metric_unit
from grafana_dashboards.vital_signs import place_thresholds, place_value
from schemas.domains import DomainSpec
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Metric, MetricKind, SensorType

# The share of a type's sensors online: calm from 95 %, needing someone under 90 % - in the
# tables' colours for "needs attention" (cell_words), not in grade colours, which would read as
# an alert's grade.
ONLINE_STEPS = ((None, ATTENTION), (90.0, "text"), (95.0, panels.GREEN))


def decimals(metric: Metric) -> int:
    return 0 if metric.kind is MetricKind.STATE else metric.precision


def metric_title(sensor_type: SensorType, metric: Metric, lang: Lang) -> str:
    title = f"{name(sensor_type.display_name, lang)} · {name(metric.display_name, lang)}"
    if metric.kind is MetricKind.STATE:
        return f"{title} ({text('in_state', lang)})"
    if metric.kind is MetricKind.COUNTER:
        return f"{title} ({text('increase', lang)})"
    return title


def history_panel(sensor_type: SensorType, metric_name: str, lang: Lang) -> PanelBuilder:
    metric = sensor_type.metrics[metric_name]
    type_sql, metric_sql = sql.quote(sensor_type.name), sql.quote(metric_name)
    thresholds = None
    if metric.kind is MetricKind.COUNTER:
        query = sql.counter_series(type_sql, metric_sql, lang)
    elif metric.states is not None:
        query = sql.enum_state_series(type_sql, metric_sql, metric.states, lang)
    elif metric.kind is MetricKind.STATE:
        query = sql.state_series(type_sql, metric_sql, lang)
    else:
        query = sql.gauge_series(type_sql, metric_sql, lang)
        thresholds = panels.metric_thresholds(metric) if metric.thresholds else None
    return panels.time_series(
        metric_title(sensor_type, metric, lang),
        query,
        unit=metric_unit(metric),
        decimals=decimals(metric),
        thresholds=thresholds,
        bars=metric.kind is MetricKind.COUNTER,
        width=8,
    )


def now_panel(sensor_type: SensorType, metric_name: str, lang: Lang) -> PanelBuilder:
    """The metric per subdistrict now (a bar each); a bar opens this board on its subdistrict
    and the sensor board on the type's sensors there."""
    metric = sensor_type.metrics[metric_name]
    type_sql, metric_sql = sql.quote(sensor_type.name), sql.quote(metric_name)
    bounds: tuple[float, float] | None = None  # counters and state counts: Grafana's own scale
    per_subdistrict = True
    steps = panels.fixed_steps((None, panels.NEUTRAL))  # a count, no grade: no grade colour
    if metric.kind is MetricKind.COUNTER:
        title = f"{name(metric.display_name, lang)} · {text('by_subdistrict_range', lang)}"
        query = sql.increase_by_subdistrict(type_sql, metric_sql, lang)
    elif metric.states is not None:  # one bar per declared state, by label
        title = f"{name(metric.display_name, lang)} · {text('in_state', lang)}"
        lookback = sql.lookback(sensor_type)
        query = sql.sensors_by_state(type_sql, metric_sql, metric.states, lookback)
        per_subdistrict = False
    else:
        title = f"{name(metric.display_name, lang)} · {text('by_subdistrict_now', lang)}"
        worst = place_value(metric, "l.value")  # one red sensor shows, not the average
        query = sql.latest_by_subdistrict(
            type_sql, metric_sql, sql.lookback(sensor_type), worst, lang
        )
        steps = place_thresholds(metric)
        bounds = (metric.range.min, metric.range.max)  # the registry's physical range
    bars = panels.bars_by_row(
        title,
        query,
        unit=metric_unit(metric),
        thresholds=steps,
        decimals=decimals(metric),
        width=4,
        bounds=bounds,
    )
    type_name = {"type": sensor_type.name}
    if not per_subdistrict:
        return bars.data_links(
            [board_link(text("sensor", lang), "sensor", lang, type_name, carry=("subdistrict",))]
        )
    place = {"subdistrict": "${__data.fields.code}"}
    # A bar per row is named after the row's other text fields ("五角场街道 wujiaochang") unless
    # the field has a displayName, which Grafana interpolates per row (@grafana/data 11.6
    # getFieldDisplayValues -> getSmartDisplayNameForRow with the row's __dataContext, read by
    # the app's `__data` macro): the name alone shows, the code stays for the links.
    return (
        bars.display_name("${__data.fields.subdistrict}")
        .data_links(
            [
                board_link(text("this_subdistrict", lang), sensor_type.domain, lang, place),
                board_link(text("sensor", lang), "sensor", lang, {**type_name, **place}),
            ]
        )
        .overrides([hidden_column("code")])
    )


def firing_of_type_tile(sensor_type: SensorType, lang: Lang) -> stat.Panel:
    """Alerts firing on the type's sensors: '0' calm, else 'n · <worst grade>' in that grade's
    colour. A stat colours by its own value, so the grade travels in the text and a regex
    mapping per grade colours it (a count alone cannot say which grade it is)."""
    mappings: list[models.ValueMapping] = [
        models.RegexMap(
            options=models.DashboardRegexMapOptions(
                pattern=f".* {grade_name(g, lang)}$",
                result=models.ValueMappingResult(color=panels.GRADE_COLOURS[g], index=i),
            )
        )
        for i, g in enumerate(GRADES_BY_SEVERITY)
    ]
    return (
        panels.big_number(
            f"{name(sensor_type.display_name, lang)} · {text('open_alerts_type', lang)}",
            sql.firing_alerts_of_type(
                sql.quote(sensor_type.name),
                sql.worst_grade_name([grade_name(g, lang) for g in GRADES_BY_SEVERITY]),
            ),
            unit="none",
            thresholds=panels.fixed_steps((None, panels.CALM)),
            width=3,
        )
        .mappings(mappings)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).fields("/.*/"))
        .data_links([board_link(text("alerts", lang), "alerts", lang, carry=("subdistrict",))])
    )


def type_health(layout: Layout, sensor_type: SensorType, lang: Lang) -> None:
    type_sql, label = sql.quote(sensor_type.name), name(sensor_type.display_name, lang)
    layout.add(
        panels.big_number(
            f"{label} · {text('online', lang)}",
            sql.online_share(type_sql),
            unit="percent",
            thresholds=panels.fixed_steps(*ONLINE_STEPS),
            decimals=1,
            width=3,
        ).data_links(
            [
                board_link(
                    text("sensor", lang),
                    "sensor",
                    lang,
                    {"type": sensor_type.name},
                    carry=("subdistrict",),
                )
            ]
        )
    )
    layout.add(firing_of_type_tile(sensor_type, lang))


def domain_board(registry: Registry, domain: DomainSpec, lang: Lang) -> dashboard.Dashboard:
    types = sorted(registry.by_domain(domain.code), key=lambda t: t.name)
    target = (
        board(domain.code, domain_name(domain, lang), lang)
        .with_variable(subdistrict_variable(lang))
        .with_variable(online_window_variable())
    )
    layout = Layout(target, lang)
    for sensor_type in types:
        type_health(layout, sensor_type, lang)
    for sensor_type in types:
        layout.row(name(sensor_type.display_name, lang))
        for metric_name in sensor_type.metrics:
            layout.add(history_panel(sensor_type, metric_name, lang))
            layout.add(now_panel(sensor_type, metric_name, lang))
    return target
