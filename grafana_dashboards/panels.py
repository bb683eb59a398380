"""Panel factories on the Grafana foundation SDK: the few panel shapes the walls use.

Units, decimals and threshold colours come from the registry (`schemas.sensor_type.Metric`), so a
new type or a changed threshold shows on the walls after `cityvitals grafana export`.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    dashboard,
    stat,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.sql_target import DATASOURCE, Sql
from schemas.sensor_type import GRADES_BY_SEVERITY, Grade, Metric

PanelBuilder = cogbuilder.Builder[models.Panel]
GREEN = "green"
# Zero alerts: no colour at all, so that a wall at rest is calm (a green or grey tile still
# draws the eye); and counts that carry no grade: grey, never a grade's blue.
CALM = "transparent"
NEUTRAL = "#8e8e8e"
GRADE_COLOURS: dict[Grade, str] = {g: g.value for g in GRADES_BY_SEVERITY}  # Grafana names


def metric_thresholds(metric: Metric) -> dashboard.ThresholdsConfig:
    """Grafana steps from the type's grade thresholds: 'below' levels under the green band,
    'above' levels over it, each band coloured by its grade."""
    steps: list[models.Threshold] = []
    below = metric.thresholds.below if metric.thresholds else None
    above = metric.thresholds.above if metric.thresholds else None
    low = sorted(below.levels(), key=lambda gv: gv[1]) if below else []
    colours = [GRADE_COLOURS[g] for g, _ in low] + [GREEN]
    steps.append(models.Threshold(value=None, color=colours[0]))
    for (_, value), colour in zip(low, colours[1:], strict=True):
        steps.append(models.Threshold(value=value, color=colour))
    for grade, value in above.levels() if above else []:
        steps.append(models.Threshold(value=value, color=GRADE_COLOURS[grade]))
    return dashboard.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)


def fixed_steps(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=v, color=c) for v, c in steps])
    )


def grade_steps() -> dashboard.ThresholdsConfig:
    """For a grade rank 0 (none) .. 4 (red)."""
    return fixed_steps(
        (None, GREEN), *((float(i), GRADE_COLOURS[g]) for i, g in enumerate(GRADES_BY_SEVERITY, 1))
    )


Override = cogbuilder.Builder[models.DashboardFieldConfigSourceOverrides]


def field_override(field: str, properties: dict[str, object]) -> Override:
    """Settings for the field (column, series) named `field`: {"unit": "short", ...}."""
    return (
        dashboard.DashboardFieldConfigSourceOverrides()
        .matcher(models.MatcherConfig(id_val="byName", options=field))
        .properties([models.DynamicConfigValue(id_val=k, value=v) for k, v in properties.items()])
    )


def colour_by_name(
    colours: dict[str, str],
) -> list[cogbuilder.Builder[models.DashboardFieldConfigSourceOverrides]]:
    """Overrides giving the series or fields named here fixed colours (grades)."""
    return [
        dashboard.DashboardFieldConfigSourceOverrides()
        .matcher(models.MatcherConfig(id_val="byName", options=field))
        .properties(
            [models.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": c})]
        )
        for field, c in colours.items()
    ]


def time_series(
    title: str,
    sql: str,
    *,
    unit: str,
    decimals: int | None = None,
    thresholds: dashboard.ThresholdsConfig | None = None,
    bars: bool = False,
    width: int = 12,
    height: int = 8,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).time_series())
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
    )
    if decimals is not None:
        panel.decimals(decimals)
    if thresholds is not None:
        panel.thresholds(thresholds).thresholds_style(
            common.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED_AND_AREA
            )
        )
    if bars:
        panel.draw_style(common_models.GraphDrawStyle.BARS).fill_opacity(80).stacking(
            common.StackingConfig().mode(common_models.StackingMode.NORMAL)
        )
    return panel


def big_number(
    title: str,
    sql: str,
    *,
    unit: str,
    thresholds: dashboard.ThresholdsConfig,
    decimals: int | None = None,
    width: int = 4,
    height: int = 4,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .unit(unit)
        .thresholds(thresholds)
        .span(width)
        .height(height)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel.decimals(decimals)
    return panel


def bars_by_row(
    title: str,
    sql: str,
    *,
    unit: str,
    thresholds: dashboard.ThresholdsConfig,
    decimals: int | None = None,
    width: int = 12,
    height: int = 8,
    bounds: tuple[float, float] | None = None,
) -> bargauge.Panel:
    """One bar per row of a table (the first text column names the bar). `bounds` fixes the
    bars' scale (a metric's physical range); without it Grafana scales to the values shown, so
    the lowest bar is drawn empty."""
    panel = (
        bargauge.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .unit(unit)
        .thresholds(thresholds)
        .span(width)
        .height(height)
        .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(True))
    )
    if decimals is not None:
        panel.decimals(decimals)
    if bounds is not None:
        panel.min(bounds[0]).max(bounds[1])
    return panel
