"""Alert rules: what to watch, when it is bad enough, and how it calms down again.

A rule is data, frozen and comparable, so a hot reload can tell changed rules from unchanged ones
by equality. `defaults.py` derives rules from the sensor types; `files.py` adds and overrides
rules from rule files.

Hysteresis (a Schmitt trigger): every grade has a firing level (the threshold) and a recovery
level a little on the safe side of it. A grade is *met* when the value reaches the threshold and
*held* until the value goes strictly past the recovery level. Pending and firing alerts use held
grades for the grades they already have, so a value wobbling inside the band changes nothing.

Default recovery margin, per direction: 2 % of the metric's physical range, but never more than
half the smallest gap between two consecutive grade thresholds (so a grade can always be left
before the next milder one is reached). Where no range exists (rates, sums) the base is 10 % of
the mildest threshold's magnitude instead. Recovery levels are clamped to the physical range.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from alerts.model import Subject
from schemas.grades import GRADE_RANK, GRADES_BY_SEVERITY, NO_GRADE, Grade
from schemas.schedules import Schedule

DEFAULTS_SOURCE = "defaults"
RANGE_MARGIN = 0.02  # of the physical range
THRESHOLD_MARGIN = 0.10  # of the mildest threshold, where there is no range
ZERO = timedelta(0)
SHARE_OFFLINE_RANGE = (0.0, 100.0)  # share_offline is a percentage, like occupancy


class ConditionKind(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    OUTSIDE = "outside"  # a band: below-levels and above-levels
    RATE_OF_CHANGE = "rate_of_change"  # per minute, compared with above- and/or below-levels
    ABSENCE = "absence"  # no data for k x the reporting interval: sensor offline
    FLATLINE = "flatline"  # value unchanged for a duration: stuck sensor
    STATE_IN = "state_in"  # an enumerated state is one of some labels


THRESHOLD_KINDS = frozenset(
    {ConditionKind.ABOVE, ConditionKind.BELOW, ConditionKind.OUTSIDE, ConditionKind.RATE_OF_CHANGE}
)


class Direction(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class Source(StrEnum):
    """Which value a threshold compares; the evaluator computes it, the rule only names it."""

    LATEST = "latest"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


class SubjectKind(StrEnum):
    SENSOR = "sensor"
    SUBDISTRICT = "subdistrict"
    DISTRICT = "district"
    CITY = "city"  # every configured district together: one alert for the whole city


WIDE_KINDS = (SubjectKind.DISTRICT, SubjectKind.CITY)  # a whole district or the whole city


class Aggregate(StrEnum):
    """How a vital-sign rule folds a type's sensors into one value per place (subdistrict,
    district or the city)."""

    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    SHARE_OFFLINE = "share_offline"  # percent of the type's sensors currently offline


@dataclass(frozen=True, slots=True)
class Levels:
    """Thresholds of one direction, least severe grade first, with each grade's recovery level."""

    direction: Direction
    grades: tuple[Grade, ...]
    thresholds: tuple[float, ...]
    recoveries: tuple[float, ...]
    ranks: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Precomputed so the state machine compares ints instead of looking grades up.
        object.__setattr__(self, "ranks", tuple(GRADE_RANK[g] for g in self.grades))

    def grade(self, value: float, held_up_to: int) -> int:
        """Rank of the worst grade met by `value`, or held (inside hysteresis) for ranks up to
        `held_up_to`; NO_GRADE when none. Most severe first, so the loop usually stops early."""
        above = self.direction is Direction.ABOVE
        for i in range(len(self.grades) - 1, -1, -1):
            rank = self.ranks[i]
            level = self.recoveries[i] if rank <= held_up_to else self.thresholds[i]
            if (value >= level) if above else (value <= level):
                return rank
        return NO_GRADE


@dataclass(frozen=True, slots=True)
class Condition:
    kind: ConditionKind
    above: Levels | None = None
    below: Levels | None = None
    over: Source = Source.LATEST
    window: timedelta | None = None  # for aggregates over time and for rates
    intervals: int | None = None  # absence: how many reporting intervals of silence
    silence: timedelta | None = None  # absence: intervals x the type's reporting interval
    unchanged_for: timedelta | None = None  # flatline
    grade: Grade | None = None  # absence, flatline and state_in fire at one fixed grade
    states: frozenset[float] | None = None  # state_in: the stored values (label indexes) that fire
    # Mildest thresholds, so "quiet and nothing breached" is one chained comparison.
    ceiling: float = field(init=False, repr=False, compare=False)
    floor: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ceiling = self.above.thresholds[0] if self.above else math.inf
        floor = self.below.thresholds[0] if self.below else -math.inf
        object.__setattr__(self, "ceiling", ceiling)
        object.__setattr__(self, "floor", floor)

    def levels(self, direction: Direction) -> Levels | None:
        return self.above if direction is Direction.ABOVE else self.below


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The condition in force while `schedule` is (other levels by night, at weekends)."""

    schedule: Schedule
    condition: Condition


@dataclass(frozen=True, slots=True)
class Timing:
    hold: timedelta = ZERO  # condition must hold this long: pending -> firing
    keep_firing_for: timedelta = ZERO  # stay firing (and keep the grade) this long after easing


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sensors (or subdistricts) a rule covers: a type, optionally narrowed."""

    type_name: str
    subdistricts: frozenset[str] | None = None
    sensors: frozenset[str] | None = None

    @property
    def specificity(self) -> int:
        """sensor (2) > subdistrict (1) > type (0): the most specific matching variant wins."""
        return 2 if self.sensors is not None else 1 if self.subdistricts is not None else 0

    def matches(self, subdistrict: str | None, sensor_id: str | None) -> bool:
        if self.subdistricts is not None and subdistrict not in self.subdistricts:
            return False
        return self.sensors is None or sensor_id in self.sensors


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    scope: Scope
    metric: str | None  # None for absence and share_offline
    condition: Condition
    timing: Timing
    domain: str
    subject_kind: SubjectKind = SubjectKind.SENSOR
    aggregate: Aggregate | None = None
    overrides: str | None = None  # the rule this variant narrows (same family)
    disabled: bool = False
    description: str | None = None
    source: str = field(default=DEFAULTS_SOURCE, compare=False)  # moving a rule is no change
    # Other levels at some times, the first in force winning; `condition` when none is.
    schedules: tuple[Scheduled, ...] = ()

    def condition_at(self, local: datetime) -> Condition:
        """The condition in force at `local`, a time in the subject's time zone."""
        for scheduled in self.schedules:
            if scheduled.schedule.in_force(local):
                return scheduled.condition
        return self.condition

    @property
    def family(self) -> str:
        """The id shared by a rule and its narrowed variants; one of them applies per subject."""
        return self.overrides or self.id

    @property
    def grades(self) -> tuple[Grade, ...]:
        cond = self.condition
        if cond.grade is not None:
            return (cond.grade,)
        conditions = [cond, *(s.condition for s in self.schedules)]
        declared = {g for c in conditions for lv in (c.above, c.below) if lv for g in lv.grades}
        return tuple(g for g in GRADES_BY_SEVERITY if g in declared)

    def labels(self, subject: Subject) -> dict[str, str]:
        """Static labels of this rule's alert on `subject` (silences add the live grade)."""
        labels = {"rule_id": self.id, "type": self.scope.type_name, "domain": self.domain}
        if self.metric is not None:
            labels["metric"] = self.metric
        if subject.subdistrict is not None:
            labels["subdistrict"] = subject.subdistrict
        if subject.kind == SubjectKind.SENSOR:
            labels["sensor"] = subject.id
        return labels


def state_condition(states: Sequence[str], labels: Iterable[str], grade: Grade) -> Condition:
    """Fires at `grade` while the stored state (the label's index in `states`) is a `labels` one."""
    return Condition(
        ConditionKind.STATE_IN,
        states=frozenset(float(states.index(label)) for label in labels),
        grade=grade,
    )


def default_margin(thresholds: Sequence[float], span: float | None) -> float:
    """The recovery margin used when a rule names neither `recovery` nor `hysteresis`."""
    base = RANGE_MARGIN * span if span else THRESHOLD_MARGIN * abs(thresholds[0])
    gaps = [abs(b - a) for a, b in itertools.pairwise(thresholds)]
    return min([base, *(g / 2 for g in gaps)])


def build_levels(
    direction: Direction,
    declared: Sequence[tuple[Grade, float]],
    *,
    value_range: tuple[float, float] | None,
    recovery: Mapping[Grade, float] | None = None,
    hysteresis: float | None = None,
) -> Levels:
    """Levels with a recovery level per grade: explicit `recovery`, else threshold -/+ margin."""
    thresholds = [v for _, v in declared]
    if hysteresis is None:
        span = value_range[1] - value_range[0] if value_range else None
        hysteresis = default_margin(thresholds, span)
    sign = -1.0 if direction is Direction.ABOVE else 1.0
    recoveries: list[float] = []
    for grade, threshold in declared:
        # Rounded so 0.22 + 0.01 is 0.23, not 0.23000000000000001: readings are stored rounded.
        level = (recovery or {}).get(grade, round(threshold + sign * hysteresis, 9))
        if value_range is not None:
            level = min(max(level, value_range[0]), value_range[1])
        recoveries.append(level)
    return Levels(
        direction=direction,
        grades=tuple(g for g, _ in declared),
        thresholds=tuple(thresholds),
        recoveries=tuple(recoveries),
    )
