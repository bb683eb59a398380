"""Checks of a sensor type's scheduled thresholds; each finding names its dotted key.

A schedule brings other levels for 'above' and/or 'below' while it is in force (see
`schedules.py`). Its levels are checked like the unscheduled ones (grade order, physical range),
and the pair in force at any time must not overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from schemas.schedules import parse_schedule
from schemas.sensor_type import GradeLevels, Metric

__all__ = ["check_schedules"]

Finding = tuple[str, str]
LevelsCheck = Callable[[str, str, GradeLevels, Metric], Iterator[Finding]]


def check_schedules(key: str, metric: Metric, check_levels: LevelsCheck) -> Iterator[Finding]:
    """`key` is the metric's `thresholds`; `check_levels` checks one direction's levels."""
    thresholds = metric.thresholds
    if thresholds is None or thresholds.schedules is None:
        return
    if not thresholds.schedules:
        yield f"{key}.schedules", "empty: declare at least one schedule, or remove 'schedules'"
        return
    for name, scheduled in thresholds.schedules.items():
        at = f"{key}.schedules.{name}"
        _, findings = parse_schedule(name, scheduled.time, scheduled.days)
        for sub, message in findings:
            yield f"{at}.{sub}" if sub else at, message
        if scheduled.above is None and scheduled.below is None:
            yield at, "a schedule with no levels changes nothing: give 'above' and/or 'below'"
            continue
        for direction in ("above", "below"):
            levels: GradeLevels | None = getattr(scheduled, direction)
            if levels is None:
                continue
            where = f"{at}.{direction}"
            if getattr(thresholds, direction) is None:
                yield (
                    where,
                    f"there are no unscheduled '{direction}' thresholds for it to replace; "
                    f"declare them (they apply when no schedule is in force)",
                )
                continue
            yield from check_levels(where, direction, levels, metric)
            for timing in ("hold", "keep_firing_for"):
                if getattr(levels, timing) is not None:
                    yield (
                        f"{where}.{timing}",
                        f"{timing} is the same at every time: set it on the unscheduled "
                        f"'{direction}' levels",
                    )
        yield from _check_overlap(
            at, scheduled.above or thresholds.above, scheduled.below or thresholds.below
        )


def _check_overlap(
    at: str, above: GradeLevels | None, below: GradeLevels | None
) -> Iterator[Finding]:
    if above is None or below is None or not above.levels() or not below.levels():
        return
    highest_below = max(v for _, v in below.levels())
    lowest_above = min(v for _, v in above.levels())
    if highest_below >= lowest_above:
        yield (
            at,
            f"while it is in force, 'below' thresholds (up to {highest_below:g}) overlap "
            f"'above' thresholds (from {lowest_above:g}): too high and too low at once",
        )
