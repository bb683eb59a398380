"""The overview's vital signs: one figure per sensor type, the worst of its sensors, not the mean.

One red pressure main among four hundred green ones must turn its tile red, so a type's figure is
its vital metric's (`SensorType.vital_metric`) worst current value in the direction of its
thresholds: the highest for 'above', the lowest for 'below', and for metrics bounded both ways the
value of the sensor with the worst grade. Quantities that add up (`additive` in the YAML: power
drawn, free spaces) and two-valued states (sensors in state 1) are summed; an enumerated state
counts the sensors in an alerting state. A metric without thresholds that does not add up shows
the mean: there is no "worst" to show.

The same aggregate serves the domain boards' per-subdistrict bars (`place_value`).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common, dashboard, stat
from grafana_foundation_sdk.models import common as common_models

from grafana_dashboards import panels, sql
from grafana_dashboards.board_links import board_link
from grafana_dashboards.boards import Layout
from grafana_dashboards.i18n import Lang, domain_name, name, text
from grafana_dashboards.sql_target import DATASOURCE, Sql
from grafana_dashboards.units import metric_unit
from schemas.domains import DomainSpec
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Grade, Metric, MetricKind, SensorType

VITAL_HEIGHT = 5


def _alerting_states(metric: Metric) -> list[int]:
    """Indexes of an enumerated state's alerting labels (`state_in`), else all but the first
    (the first state is the normal one by convention of the type files)."""
    assert metric.states is not None
    state_in = metric.thresholds.state_in if metric.thresholds else None
    labels = state_in.labels if state_in else metric.states[1:]
    return [metric.states.index(label) for label in labels]


def grade_rank(metric: Metric, value: str) -> str:
    """SQL: the grade `value` reaches by the metric's thresholds, 0 (none) to 4 (red), with
    Grafana's step semantics (`panels.metric_thresholds`): at or over an 'above' level, under a
    'below' one."""
    rank = {g: i for i, g in enumerate(GRADES_BY_SEVERITY, 1)}
    whens: list[tuple[int, str]] = []
    thresholds = metric.thresholds
    for grade, level in thresholds.above.levels() if thresholds and thresholds.above else []:
        whens.append((rank[grade], f"{value} >= {level!r}"))
    for grade, level in thresholds.below.levels() if thresholds and thresholds.below else []:
        whens.append((rank[grade], f"{value} < {level!r}"))
    whens.sort(key=lambda w: -w[0])  # the worst grade first
    cases = " ".join(f"WHEN {condition} THEN {r}" for r, condition in whens)
    return f"CASE {cases} ELSE 0 END" if cases else "0"


def _safe_middle(metric: Metric) -> float:
    """The middle of the band between the 'below' and the 'above' levels: the further from it,
    the worse, among values of the same grade."""
    assert metric.thresholds is not None
    assert metric.thresholds.above is not None
    assert metric.thresholds.below is not None
    low = max(v for _, v in metric.thresholds.below.levels())
    high = min(v for _, v in metric.thresholds.above.levels())
    return (low + high) / 2


def place_value(metric: Metric, value: str) -> str:
    """SQL aggregate of the sensors' current `value`s for one place (a subdistrict, the city)."""
    if metric.states is not None:
        indexes = ", ".join(str(i) for i in _alerting_states(metric))
        return f"count(*) FILTER (WHERE round({value}) IN ({indexes}))"
    if metric.kind is MetricKind.STATE or metric.additive:
        return f"sum({value})"
    thresholds = metric.thresholds
    above = thresholds is not None and thresholds.above is not None
    below = thresholds is not None and thresholds.below is not None
    if above and below:
        middle = _safe_middle(metric)
        order = f"{grade_rank(metric, value)} DESC, abs({value} - {middle!r}) DESC"
        return f"(array_agg({value} ORDER BY {order}))[1]"
    if above:
        return f"max({value})"
    if below:
        return f"min({value})"
    return f"avg({value})"


def place_thresholds(metric: Metric) -> dashboard.ThresholdsConfig:
    """Colours of `place_value`: the metric's own steps, or for an enumerated state a count of
    sensors in an alerting state, calm at zero and its grade from one."""
    if metric.states is None:
        return panels.metric_thresholds(metric)
    state_in = metric.thresholds.state_in if metric.thresholds else None
    grade = state_in.grade if state_in else Grade.YELLOW
    return panels.fixed_steps((None, panels.GREEN), (1.0, panels.GRADE_COLOURS[grade]))


def vital_sql(sensor_type: SensorType) -> str:
    """The type's figure over the whole deployment (one row, column `value`)."""
    metric_name = sensor_type.vital_metric()
    metric = sensor_type.metrics[metric_name]
    type_sql = sql.quote(sensor_type.name)
    newest = sql.newest_reading(type_sql, sql.quote(metric_name), sql.lookback(sensor_type))
    return f"""SELECT {place_value(metric, "l.value")} AS value
FROM sensors s
{newest}
WHERE s.sensor_type_id = {sql.type_id(type_sql)}"""


def domain_vitals_sql(types: list[SensorType]) -> str:
    """One row, one column per type (named by the type): a domain's figures in one query."""
    columns = ",\n       ".join(f'({_indent(vital_sql(t))}) AS "{t.name}"' for t in types)
    return f"SELECT {columns}"


def _indent(query: str) -> str:
    return query.replace("\n", "\n        ")


def _vital_field(sensor_type: SensorType, lang: Lang) -> panels.Override:
    """The tile of one type: its name, unit, decimals and colour steps."""
    metric = sensor_type.metrics[sensor_type.vital_metric()]
    label = f"{name(sensor_type.display_name, lang)} · {name(metric.display_name, lang)}"
    count = metric.kind is MetricKind.STATE or metric.states is not None
    return panels.field_override(
        sensor_type.name,
        {
            "displayName": label,
            "unit": "none" if metric.states else metric_unit(metric),
            "decimals": 0 if count else metric.precision,
            "thresholds": place_thresholds(metric).build(),
        },
    )


def domain_vitals_panel(
    domain: DomainSpec, types: list[SensorType], lang: Lang, width: int
) -> stat.Panel:
    """A domain's vital signs as one stat panel, a tile per type coloured by its own steps; the
    panel links to the domain's board (same time range)."""
    overrides = [_vital_field(t, lang) for t in types]
    link = board_link(domain_name(domain, lang), domain.code, lang)
    return (
        stat.Panel()
        .title(f"{text('vital_signs', lang)} · {domain_name(domain, lang)}")
        .datasource(DATASOURCE)
        .with_target(Sql(domain_vitals_sql(types)).table())
        .span(width)
        .height(VITAL_HEIGHT)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .text_mode(common_models.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .data_links([link])
        .overrides(overrides)
    )


def vital_signs(layout: Layout, registry: Registry, lang: Lang) -> None:
    """A row of domain panels across the wall, each as wide as its share of the types."""
    domains = registry.domains_in_use()
    counts = [len(registry.by_domain(d.code)) for d in domains]
    widths = share_columns(counts, Layout.WIDTH)
    for domain, width in zip(domains, widths, strict=True):
        types = sorted(registry.by_domain(domain.code), key=lambda t: t.name)
        layout.add(domain_vitals_panel(domain, types, lang, width))


def share_columns(counts: list[int], columns: int) -> list[int]:
    """Split `columns` in proportion to `counts` (largest remainders), at least 2 each."""
    total = sum(counts) or 1
    exact = [columns * c / total for c in counts]
    widths = [max(2, int(e)) for e in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in by_remainder[: max(0, columns - sum(widths))]:
        widths[i] += 1
    return widths
