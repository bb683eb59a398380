"""Scheduled thresholds in rule files: other levels by night, at weekends.

A rule or an override may carry `schedules`, each a time window (format and precedence in
`schemas/schedules.py`: the first listed in force wins) with `above` and/or `below` blocks that
replace those directions of the rule's thresholds while it is in force:

    overrides:
      - rule: default:noise_monitor:laeq:above
        subdistricts: [kongjiang]                      # a class-1 (quiet residential) area
        above: {yellow: 55, red: 65}
        schedules:
          night: {time: "22:00-06:00", above: {yellow: 45, red: 55}}

Each schedule's levels are checked like the rule's own (grade order, physical range, recovery),
and the pair in force at any time must not overlap. Hold and keep_firing_for stay the rule's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from alerts.file_problems import Report
from alerts.rules.rule import THRESHOLD_KINDS, Condition, Direction, Levels, Scheduled
from alerts.rules.specs import LevelsSpec, ScheduleSpec
from schemas.schedules import parse_schedule

__all__ = ["build_schedules", "rebase_schedules"]

# (key, block, direction) -> the checked levels, or None with its problems recorded.
LevelsOf = Callable[[str, LevelsSpec, Direction], Levels | None]
# (key, above, below): records a problem when the two overlap.
OverlapCheck = Callable[[str, Levels | None, Levels | None], None]


def build_schedules(
    at: Report,
    specs: Mapping[str, ScheduleSpec] | None,
    condition: Condition,
    levels_of: LevelsOf,
    check_overlap: OverlapCheck,
) -> tuple[Scheduled, ...]:
    """The schedules of a rule whose unscheduled condition is `condition`; problems go to `at`
    (the caller drops the rule when there are any)."""
    if specs is None:
        return ()
    if not specs:
        at("schedules", "empty: declare at least one schedule, or remove 'schedules'")
        return ()
    if condition.kind not in THRESHOLD_KINDS:
        at("schedules", f"{condition.kind} rules have no thresholds to schedule")
        return ()
    built: list[Scheduled] = []
    for name, spec in specs.items():
        key = f"schedules.{name}"
        schedule, findings = parse_schedule(name, spec.time, spec.days)
        for sub, message in findings:
            at(f"{key}.{sub}" if sub else key, message)
        if spec.above is None and spec.below is None:
            at(key, "a schedule with no levels changes nothing: give 'above' and/or 'below'")
            continue
        replaced: dict[Direction, Levels | None] = {}
        for direction, block in ((Direction.ABOVE, spec.above), (Direction.BELOW, spec.below)):
            if block is None:
                continue
            if condition.levels(direction) is None:
                at(
                    f"{key}.{direction}",
                    f"the rule has no '{direction}' thresholds for it to replace; a schedule "
                    "changes the levels of a direction the rule watches",
                )
                continue
            replaced[direction] = levels_of(f"{key}.{direction}", block, direction)
        if schedule is None or not replaced or None in replaced.values():
            continue
        above = replaced.get(Direction.ABOVE, condition.above)
        below = replaced.get(Direction.BELOW, condition.below)
        check_overlap(key, above, below)
        built.append(Scheduled(schedule, replace(condition, above=above, below=below)))
    return tuple(built)


def rebase_schedules(
    schedules: tuple[Scheduled, ...],
    old: Condition,
    new: Condition,
    check_overlap: OverlapCheck,
) -> tuple[Scheduled, ...]:
    """`schedules` on a rule whose unscheduled condition changed from `old` to `new` (an override
    that replaced its levels): each direction a schedule did not replace follows the new levels."""
    rebased: list[Scheduled] = []
    for scheduled in schedules:
        then = scheduled.condition
        # A direction the schedule left alone is the very Levels object of the old condition.
        above = new.above if then.above is old.above else then.above
        below = new.below if then.below is old.below else then.below
        check_overlap(f"schedules.{scheduled.schedule.name}", above, below)
        rebased.append(replace(scheduled, condition=replace(new, above=above, below=below)))
    return tuple(rebased)
