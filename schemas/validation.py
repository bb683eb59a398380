"""Cross-field rules for a parsed sensor type; each yields (dotted key, message)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from schemas.schedule_checks import check_schedules
from schemas.sensor_type import (
    NAME_PATTERN,
    GradeLevels,
    IntegerPolicy,
    Metric,
    MetricKind,
    SensorType,
)
from schemas.states import check_state_metric
from schemas.units import unit_problem

Finding = tuple[str, str]
MAX_ALIAS_CHARS = 64
MAX_EXACT = 2**53  # integers a double holds exactly: rounding to precision stays exact


def check_sensor_type(sensor_type: SensorType) -> Iterator[Finding]:
    for name, metric in sensor_type.metrics.items():
        key = f"metrics.{name}"
        if not re.match(NAME_PATTERN, name):
            yield key, f"metric name {name!r} must be snake_case ({NAME_PATTERN})"
        yield from _check_metric(key, metric)
    yield from _check_aliases(sensor_type)
    # simulator.hotspots name subdistricts: the registry alone has no geography, so they are
    # checked where both are known (simulators.fleet.hotspot_warnings: the fleet, `sensors
    # validate`).


def _check_metric(key: str, metric: Metric) -> Iterator[Finding]:
    problem = unit_problem(metric.unit)
    if problem is not None:
        yield f"{key}.unit", problem
    if metric.integer is IntegerPolicy.REJECT and metric.precision != 0:
        what = f"'integer: reject' is for whole-number metrics; precision is {metric.precision}"
        yield f"{key}.integer", f"{what} (set precision 0 or remove 'integer')"
    yield from _check_states(key, metric)
    low, high = metric.range.min, metric.range.max
    if low >= high:
        yield f"{key}.range", f"min ({low:g}) must be below max ({high:g})"
        return
    if max(abs(low), abs(high)) * 10**metric.precision > MAX_EXACT:
        yield (
            f"{key}.precision",
            f"{metric.precision} decimals on values up to {max(abs(low), abs(high)):g} need more "
            "digits than a stored double holds (15): lower the precision or the range",
        )
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


def _check_states(key: str, metric: Metric) -> Iterator[Finding]:
    """An enumeration: labels snake_case and unique, at least two, indexes 0..n-1 as the range."""
    states = metric.states
    if states is None:
        return
    if metric.kind is not MetricKind.STATE:
        yield f"{key}.states", f"only a state metric has states (this one is {metric.kind.value})"
    if len(states) < 2:
        yield f"{key}.states", f"declare at least 2 states, not {len(states)}"
    seen: set[str] = set()
    for index, label in enumerate(states):
        if not re.match(NAME_PATTERN, label):
            yield f"{key}.states.{index}", f"state {label!r} must be snake_case ({NAME_PATTERN})"
        elif label in seen:
            yield f"{key}.states.{index}", f"state {label!r} is declared twice"
        seen.add(label)
    expected = (0, len(states) - 1)
    if len(states) >= 2 and (metric.range.min, metric.range.max) != expected:
        yield (
            f"{key}.range",
            f"a state metric stores the index of its {len(states)} states: range must be min 0, "
            f"max {expected[1]}",
        )
    if metric.precision != 0:
        yield f"{key}.precision", "a state metric stores a state index: precision must be 0"


def _check_aliases(sensor_type: SensorType) -> Iterator[Finding]:
    """Each name a device may send maps to one metric: an alias claimed twice, or equal to
    another metric's name, is ambiguous and names both metrics."""
    owners: dict[str, str] = {name: name for name in sensor_type.metrics}
    for name, metric in sensor_type.metrics.items():
        for index, alias in enumerate(metric.aliases):
            key = f"metrics.{name}.aliases.{index}"
            if not 1 <= len(alias) <= MAX_ALIAS_CHARS or not alias.isprintable():
                what = f"alias {alias!r} must be 1 to {MAX_ALIAS_CHARS} printable characters"
                yield key, what
                continue
            owner = owners.get(alias)
            if owner is None:
                owners[alias] = name
            elif owner == alias:
                yield key, f"alias {alias!r} of metric {name!r} is the name of metric {owner!r}"
            elif owner == name:
                yield key, f"alias {alias!r} is listed twice for metric {name!r}"
            else:
                what = f"alias {alias!r} of metric {name!r} is also an alias of metric {owner!r}"
                yield key, what


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
