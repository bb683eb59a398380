"""The shape of a rule file, checked by pydantic: types, required keys, no unknown keys.

Cross-field rules (known type and metric, grade order, physical range, recovery side, scopes)
live in `checks.py`, where each finding can name its exact key. See `files.py` for the format
with an example.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from alerts.rules.defaults import DEFAULT_ABSENCE_GRADE, DEFAULT_ABSENCE_INTERVALS
from alerts.rules.rule import Aggregate, Source, SubjectKind
from schemas.durations import Duration, Offset
from schemas.grades import Grade

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.:@+-]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecoverySpec(_Strict):
    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None


class LevelsSpec(_Strict):
    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None
    recovery: RecoverySpec | None = None
    hysteresis: float | None = Field(default=None, ge=0)


class OutsideSpec(_Strict):
    above: LevelsSpec
    below: LevelsSpec


class RateSpec(_Strict):
    above: LevelsSpec | None = None
    below: LevelsSpec | None = None


class AbsenceSpec(_Strict):
    intervals: int = Field(default=DEFAULT_ABSENCE_INTERVALS, ge=1)
    grade: Grade = DEFAULT_ABSENCE_GRADE


class FlatlineSpec(_Strict):
    unchanged_for: Duration
    grade: Grade = Grade.YELLOW


class ScheduleSpec(_Strict):
    """Other levels while the schedule is in force (format in schemas/schedules.py)."""

    time: str | None = None  # "22:00-06:00"
    days: list[str] | None = None  # [sat, sun]
    above: LevelsSpec | None = None
    below: LevelsSpec | None = None


class StateInSpec(_Strict):
    labels: list[str] = Field(min_length=1)
    grade: Grade = Grade.YELLOW


# `state_in: [fault]` (yellow) or `state_in: {labels: [fault], grade: orange}`.
StateInForm = StateInSpec | Annotated[list[str], Field(min_length=1)]


def state_in_spec(form: StateInForm) -> StateInSpec:
    return form if isinstance(form, StateInSpec) else StateInSpec(labels=form)


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN)
    type: str
    metric: str | None = None
    subject: SubjectKind = SubjectKind.SENSOR
    aggregate: Aggregate | None = None
    subdistricts: list[str] | None = Field(default=None, min_length=1)
    sensors: list[str] | None = Field(default=None, min_length=1)
    above: LevelsSpec | None = None
    below: LevelsSpec | None = None
    outside: OutsideSpec | None = None
    rate_of_change: RateSpec | None = None
    absence: AbsenceSpec | None = None
    flatline: FlatlineSpec | None = None
    state_in: StateInForm | None = None
    schedules: dict[str, ScheduleSpec] | None = None
    over: Source = Source.LATEST
    window: Duration | None = None
    # 0 is meaningful (fire at once, stand down at once): an Offset, not a Duration.
    hold: Offset | None = None
    keep_firing_for: Offset | None = None
    disabled: bool = False
    description: str | None = None


class OverrideSpec(_Strict):
    rule: str
    id: str | None = Field(default=None, pattern=RULE_ID_PATTERN)
    subdistricts: list[str] | None = Field(default=None, min_length=1)
    sensors: list[str] | None = Field(default=None, min_length=1)
    above: LevelsSpec | None = None
    below: LevelsSpec | None = None
    schedules: dict[str, ScheduleSpec] | None = None  # replaces the rule's schedules
    state_in: StateInForm | None = None  # replaces a state_in rule's labels and grade
    # 0 is meaningful (fire at once, stand down at once): an Offset, not a Duration.
    hold: Offset | None = None
    keep_firing_for: Offset | None = None
    disabled: bool | None = None
    grade: Grade | None = None
    intervals: int | None = Field(default=None, ge=1)
    unchanged_for: Duration | None = None
    description: str | None = None


class RuleFileSpec(_Strict):
    rules: list[RuleSpec] = Field(default_factory=list)
    overrides: list[OverrideSpec] = Field(default_factory=list)
