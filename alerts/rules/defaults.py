"""The default rules, derived from the sensor types: no rule file needed for a new type.

Per type: one rule per (metric, threshold direction) with the type's grade thresholds, the
default recovery margin (see `rule.py`), its `hold` and its `keep_firing_for` (by default the
hold: a symmetric debounce); and one "sensor offline" absence rule.
A type's scheduled levels (night, weekend) become the rule's schedules, per direction; an
enumerated state's `state_in` becomes a rule of its own.
Ids are `default:<type>:<metric>:<above|below|state_in>` and `default:<type>:absence`; rule
files override them by id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from alerts.rules.rule import (
    Condition,
    ConditionKind,
    Direction,
    Rule,
    Scheduled,
    Scope,
    Timing,
    build_levels,
    state_condition,
)
from schemas.grades import Grade
from schemas.registry import Registry
from schemas.sensor_type import GradeLevels, Metric, SensorType, StateIn

__all__ = ["DEFAULT_ABSENCE_GRADE", "DEFAULT_ABSENCE_INTERVALS", "absence_rule", "default_rules"]

DEFAULT_ABSENCE_INTERVALS = 3
DEFAULT_ABSENCE_GRADE = Grade.YELLOW


def default_rules(registry: Registry) -> list[Rule]:
    """One rule per (type, metric, threshold direction) and one absence rule per type."""
    rules: list[Rule] = []
    for sensor_type in registry:
        for metric_name, metric in sensor_type.metrics.items():
            if metric.thresholds is None:
                continue
            if metric.thresholds.state_in is not None:
                rules.append(
                    _state_rule(sensor_type, metric_name, metric, metric.thresholds.state_in)
                )
            for direction in Direction:
                grade_levels = getattr(metric.thresholds, direction.value)
                if grade_levels is not None and grade_levels.levels():
                    rules.append(
                        _threshold_rule(sensor_type, metric_name, metric, direction, grade_levels)
                    )
        rules.append(absence_rule(sensor_type))
    return rules


def absence_rule(
    sensor_type: SensorType,
    *,
    intervals: int = DEFAULT_ABSENCE_INTERVALS,
    grade: Grade = DEFAULT_ABSENCE_GRADE,
) -> Rule:
    # The silence itself is the debounce, so no hold; data coming back is definitive, so no
    # keep-firing either.
    condition = Condition(
        kind=ConditionKind.ABSENCE,
        intervals=intervals,
        silence=timedelta(seconds=sensor_type.reporting_interval * intervals),
        grade=grade,
    )
    return Rule(
        id=f"default:{sensor_type.name}:absence",
        scope=Scope(sensor_type.name),
        metric=None,
        condition=condition,
        timing=Timing(),
        domain=sensor_type.domain,
        description=f"no data for {intervals} reporting intervals: sensor offline",
    )


def _threshold_rule(
    sensor_type: SensorType,
    metric_name: str,
    metric: Metric,
    direction: Direction,
    grade_levels: GradeLevels,
) -> Rule:
    levels = build_levels(
        direction, grade_levels.levels(), value_range=(metric.range.min, metric.range.max)
    )
    is_above = direction is Direction.ABOVE
    condition = Condition(
        kind=ConditionKind(direction.value),
        above=levels if is_above else None,
        below=None if is_above else levels,
    )
    schedules = []
    assert metric.thresholds is not None  # the caller found levels in them
    for name, scheduled in (metric.thresholds.schedules or {}).items():
        then = getattr(scheduled, direction.value)
        if then is not None:  # a direction the schedule leaves out keeps the unscheduled levels
            other = build_levels(
                direction, then.levels(), value_range=(metric.range.min, metric.range.max)
            )
            schedules.append(
                Scheduled(
                    scheduled.schedule(name),
                    replace(
                        condition,
                        above=other if is_above else None,
                        below=None if is_above else other,
                    ),
                )
            )
    hold = timedelta(seconds=grade_levels.hold or 0)
    # Unless the type says otherwise, a symmetric debounce: it takes as long to stand down as it
    # took to stand up, so a value hovering at the threshold is one alert, not a flapping one.
    keep = hold
    if grade_levels.keep_firing_for is not None:
        keep = timedelta(seconds=grade_levels.keep_firing_for)
    return Rule(
        id=f"default:{sensor_type.name}:{metric_name}:{direction.value}",
        scope=Scope(sensor_type.name),
        metric=metric_name,
        condition=condition,
        timing=Timing(hold=hold, keep_firing_for=keep),
        domain=sensor_type.domain,
        schedules=tuple(schedules),
    )


def _state_rule(sensor_type: SensorType, metric_name: str, metric: Metric, spec: StateIn) -> Rule:
    assert metric.states is not None  # the registry checked that state_in has states
    hold = timedelta(seconds=spec.hold or 0)
    keep = hold if spec.keep_firing_for is None else timedelta(seconds=spec.keep_firing_for)
    return Rule(
        id=f"default:{sensor_type.name}:{metric_name}:state_in",
        scope=Scope(sensor_type.name),
        metric=metric_name,
        condition=state_condition(metric.states, spec.labels, spec.grade),
        timing=Timing(hold=hold, keep_firing_for=keep),
        domain=sensor_type.domain,
        description=f"state is {' or '.join(spec.labels)}",
    )
