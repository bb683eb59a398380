"""One board per domain: every type of the domain in the registry, every metric of each type.

A type gets a health line (share of its sensors online, alerts firing) and a row with two panels
per metric: its history per subdistrict and its value per subdistrict now. What a panel shows
follows the metric's kind: gauges are averaged, counters shown as the increase per interval,
states as the number of sensors in that state. A new YAML type appears here on the next export.
"""

from __future__ import annotations

from datetime import timedelta

from grafana_foundation_sdk.builders import dashboard

from grafana_dashboards import panels, sql
from grafana_dashboards.boards import Layout, board, online_window_variable, subdistrict_variable
from grafana_dashboards.i18n import Lang, domain_name, name, text
from grafana_dashboards.panels import PanelBuilder
from grafana_dashboards.units import metric_unit
from schemas.domains import DomainSpec
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind, SensorType

MIN_LOOKBACK = timedelta(minutes=15)
ONLINE_STEPS = ((None, "red"), (80.0, "orange"), (90.0, "yellow"), (95.0, "green"))
FIRING_STEPS = ((None, "green"), (1.0, "orange"), (5.0, "red"))


def lookback(sensor_type: SensorType) -> timedelta:
    """How far back a sensor's newest reading still counts as 'now': three report intervals."""
    return max(MIN_LOOKBACK, 3 * timedelta(seconds=sensor_type.reporting_interval))


def latest_aggregate(metric: Metric) -> str:
    """How sensors' current values add up: counts and two-valued states are summed, levels
    averaged (enumerated states are counted per label instead: `sql.sensors_by_state`)."""
    return "sum" if metric.kind is MetricKind.STATE or metric.unit == "count" else "avg"


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
    metric = sensor_type.metrics[metric_name]
    type_sql, metric_sql = sql.quote(sensor_type.name), sql.quote(metric_name)
    bounds: tuple[float, float] | None = None  # counters and state counts: Grafana's own scale
    if metric.kind is MetricKind.COUNTER:
        title = f"{name(metric.display_name, lang)} · {text('by_subdistrict_range', lang)}"
        query = sql.increase_by_subdistrict(type_sql, metric_sql, lang)
        steps = panels.fixed_steps((None, "blue"))
    elif metric.states is not None:  # one bar per declared state, by label
        title = f"{name(metric.display_name, lang)} · {text('in_state', lang)}"
        query = sql.sensors_by_state(type_sql, metric_sql, metric.states, lookback(sensor_type))
        steps = panels.fixed_steps((None, "blue"))
    else:
        title = f"{name(metric.display_name, lang)} · {text('by_subdistrict_now', lang)}"
        query = sql.latest_by_subdistrict(
            type_sql, metric_sql, lookback(sensor_type), latest_aggregate(metric), lang
        )
        steps = panels.metric_thresholds(metric)
        bounds = (metric.range.min, metric.range.max)  # the registry's physical range
    return panels.bars_by_row(
        title,
        query,
        unit=metric_unit(metric),
        thresholds=steps,
        decimals=decimals(metric),
        width=4,
        bounds=bounds,
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
        )
    )
    layout.add(
        panels.big_number(
            f"{label} · {text('open_alerts_type', lang)}",
            sql.firing_alerts_of_type(type_sql),
            unit="short",
            thresholds=panels.fixed_steps(*FIRING_STEPS),
            width=3,
        )
    )


def domain_board(registry: Registry, domain: DomainSpec, lang: Lang) -> dashboard.Dashboard:
    types = sorted(registry.by_domain(domain.code), key=lambda t: t.name)
    target = (
        board(domain.code, domain_name(domain, lang), lang)
        .with_variable(subdistrict_variable(lang))
        .with_variable(online_window_variable())
    )
    layout = Layout(target)
    for sensor_type in types:
        type_health(layout, sensor_type, lang)
    for sensor_type in types:
        layout.row(name(sensor_type.display_name, lang))
        for metric_name in sensor_type.metrics:
            layout.add(history_panel(sensor_type, metric_name, lang))
            layout.add(now_panel(sensor_type, metric_name, lang))
    return target
