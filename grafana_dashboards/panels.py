"""Panel factories on the Grafana foundation SDK: the few panel shapes the walls use.

Units, decimals and threshold colours come from the registry (`schemas.sensor_type.Metric`), so a
new type or a changed threshold shows on the walls after `cityvitals grafana export`.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    dashboard,
    geomap,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import geomap as geomap_models

from grafana_dashboards.sql_target import DATASOURCE, Sql
from schemas.sensor_type import GRADES_BY_SEVERITY, Grade, Metric, MetricKind

PanelBuilder = cogbuilder.Builder[models.Panel]
GREEN = "green"
GRADE_COLOURS: dict[Grade, str] = {g: g.value for g in GRADES_BY_SEVERITY}  # Grafana names

# Registry unit -> Grafana unit id; units Grafana has no id for are shown as a suffix.
_UNITS = {
    "%": "percent",
    "%RH": "humidity",
    "°C": "celsius",
    "ppm": "ppm",
    "µg/m3": "conµgm3",
    "µg/m³": "conµgm3",
    "ug/m3": "conµgm3",
    "GQ": "conµgm3",
    "mg/m3": "conmgm3",
    "mg/m³": "conmgm3",
    "GP": "conmgm3",
    "dB(A)": "dB",
    "dB": "dB",
    "AQI": "none",
    "index": "none",
    "state": "none",
    "CEL": "celsius",
    "P1": "percent",
    "lx": "lux",
    "kWh": "kwatth",
    "kW": "kwatt",
    "kvar": "kvar",
    "kVA": "kvoltamp",
    "V": "volt",
    "kV": "kvolt",
    "A": "amp",
    "Hz": "hertz",
    "m3": "m3",
    "m/s": "velocityms",
    "m": "lengthm",
    "mm": "lengthmm",
    "count": "short",
    "bool": "short",
    "PF": "none",
    "s": "s",
}


def grafana_unit(unit: str) -> str:
    return _UNITS.get(unit, f"suffix: {unit}")


def metric_unit(metric: Metric) -> str:
    """The unit a panel of this metric shows (a state metric shows a count of sensors)."""
    return "short" if metric.kind is MetricKind.STATE else grafana_unit(metric.unit)


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


def rows_table(title: str, sql: str, *, width: int = 24, height: int = 8) -> table.Panel:
    # Alignment is Grafana's default, written out so that a table with field config (links,
    # hidden columns) has its `custom` part complete.
    return (
        table.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .span(width)
        .height(height)
        .cell_height(common_models.TableCellHeight.SM)
        .align(common_models.FieldTextAlignment.AUTO)
    )


def state_timeline(
    title: str, sql: str, mappings: list[models.ValueMapping], *, width: int = 24, height: int = 8
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).time_series())
        .mappings(mappings)
        .span(width)
        .height(height)
        .show_value(common_models.VisibilityMode.NEVER)
        .merge_values(True)
        .fill_opacity(70)
        .line_width(0)
    )


def value_texts(texts: dict[int, tuple[str, str]]) -> list[models.ValueMapping]:
    """Value -> (text, colour) mappings, e.g. 0 -> offline in red."""
    return [
        models.ValueMap(
            options={
                str(value): models.ValueMappingResult(text=label, color=colour, index=i)
                for i, (value, (label, colour)) in enumerate(texts.items())
            }
        )
    ]


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
