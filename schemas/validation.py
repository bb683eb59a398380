"""Cross-field rules for a parsed sensor type; each yields (dotted key, message)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from schemas.schedule_checks import check_schedules
from schemas.sensor_type import NAME_PATTERN, GradeLevels, Metric, MetricKind, SensorType
from schemas.states import check_state_metric
from schemas.units import is_known_unit, suggest_unit

Finding = tuple[str, str]


def check_sensor_type(sensor_type: SensorType) -> Iterator[Finding]:
    for name, metric in sensor_type.metrics.items():
        key = f"metrics.{name}"
        if not re.match(NAME_PATTERN, name):
            yield key, f"metric name {name!r} must be snake_case ({NAME_PATTERN})"
        yield from _check_metric(key, metric)
    # simulator.hotspots name subdistricts: the registry alone has no geography, so they are
    # checked where both are known (simulators.fleet.hotspot_warnings: the fleet, `sensors
    # validate`).


def _check_metric(key: str, metric: Metric) -> Iterator[Finding]:
    if not is_known_unit(metric.unit):
        hint = suggest_unit(metric.unit)
        suffix = f"; did you mean {hint!r}?" if hint else " (see schemas/units.py for the list)"
        yield f"{key}.unit", f"unknown unit {metric.unit!r}{suffix}"
    low, high = metric.range.min, metric.range.max
    if low >= high:
        yield f"{key}.range", f"min ({low:g}) must be below max ({high:g})"
        return
    if metric.kind is MetricKind.STATE and metric.states is None and (low, high) != (0, 1):
        yield f"{key}.range", "a state metric takes the values 0 and 1: range must be min 0, max 1"
    yield from check_state_metric(key, metric)
    if metric.thresholds is not None:
        if metric.kind is MetricKind.COUNTER:
            yield (
                f"{key}.thresholds",
                "thresholds on a counter would compare a cumulative total; alert on a gauge",
            )
        yield from _check_thresholds(f"{key}.thresholds", metric)
    if metric.simulator is not None and metric.kind is not MetricKind.COUNTER:
        baseline = metric.simulator.baseline
        if not low <= baseline <= high:
            yield (
                f"{key}.simulator.baseline",
                f"{baseline:g} is outside the physical range [{low:g}, {high:g}] {metric.unit}",
            )


def _check_thresholds(key: str, metric: Metric) -> Iterator[Finding]:
    assert metric.thresholds is not None
    above, below = metric.thresholds.above, metric.thresholds.below
    if above is None and below is None and metric.thresholds.state_in is None:
        yield key, "declare 'above' or 'below' (or remove 'thresholds')"
    for direction, levels in (("above", above), ("below", below)):
        if levels is not None:
            yield from _check_levels(f"{key}.{direction}", direction, levels, metric)
    if above is not None and below is not None and above.levels() and below.levels():
        highest_below = max(v for _, v in below.levels())
        lowest_above = min(v for _, v in above.levels())
        if highest_below >= lowest_above:
            yield (
                key,
                f"'below' thresholds (up to {highest_below:g}) overlap 'above' thresholds "
                f"(from {lowest_above:g}): a value could be too high and too low at once",
            )
    yield from check_schedules(key, metric, _check_levels)


def _check_levels(
    key: str, direction: str, levels: GradeLevels, metric: Metric
) -> Iterator[Finding]:
    declared = levels.levels()
    if not declared:
        yield key, "declare at least one of blue, yellow, orange, red"
        return
    low, high = metric.range.min, metric.range.max
    for grade, value in declared:
        if not low <= value <= high:
            yield (
                f"{key}.{grade.value}",
                f"{value:g} is outside the physical range [{low:g}, {high:g}] {metric.unit}",
            )
    # A more severe grade must need a worse value, or an alert could never escalate.
    for (milder, mild_value), (worse, worse_value) in itertools.pairwise(declared):
        in_order = worse_value > mild_value if direction == "above" else worse_value < mild_value
        if not in_order:
            relation = "above" if direction == "above" else "below"
            yield (
                f"{key}.{worse.value}",
                f"{worse.value} ({worse_value:g}) must be {relation} {milder.value} "
                f"({mild_value:g}): more severe grades need worse values",
            )
