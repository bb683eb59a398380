"""The shape of a rule file, checked by pydantic: types, required keys, no unknown keys.

Cross-field rules (known type and metric, grade order, physical range, recovery side, scopes)
live in `rule_checks.py`, where each finding can name its exact key. See `rule_files.py` for the
format with an example.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from alerts.rules.defaults import DEFAULT_ABSENCE_GRADE, DEFAULT_ABSENCE_INTERVALS
from alerts.rules.rule import Aggregate, Source, SubjectKind
from schemas.durations import Duration, parse_duration
from schemas.sensor_type import Grade

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.:@+-]{0,127}$"
_ZERO = re.compile(r"^\s*0+(\.0+)?\s*(ms|s|m|h|d)?\s*$")


def _span(value: object) -> float:
    # hold: 0 is meaningful in an override (fire at once), but a Duration must be positive.
    if value == 0 or (isinstance(value, str) and _ZERO.match(value)):
        return 0.0
    return parse_duration(value)


Span = Annotated[float, BeforeValidator(_span)]


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
    over: Source = Source.LATEST
    window: Duration | None = None
    hold: Span | None = None
    keep_firing_for: Span | None = None
    disabled: bool = False
    description: str | None = None


class OverrideSpec(_Strict):
    rule: str
    id: str | None = Field(default=None, pattern=RULE_ID_PATTERN)
    subdistricts: list[str] | None = Field(default=None, min_length=1)
    sensors: list[str] | None = Field(default=None, min_length=1)
    above: LevelsSpec | None = None
    below: LevelsSpec | None = None
    hold: Span | None = None
    keep_firing_for: Span | None = None
    disabled: bool | None = None
    grade: Grade | None = None
    intervals: int | None = Field(default=None, ge=1)
    unchanged_for: Duration | None = None
    description: str | None = None


class RuleFileSpec(_Strict):
    rules: list[RuleSpec] = Field(default_factory=list)
    overrides: list[OverrideSpec] = Field(default_factory=list)


def error_message(kind: str, msg: str, loc: tuple[int | str, ...]) -> str:
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key (allowed here: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "missing":
        return "required key is missing"
    return msg


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the model at `loc`, by walking the spec classes along the path."""
    model: type[BaseModel] | None = RuleFileSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = None if model is None else model.model_fields.get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return [] if model is None else list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The spec class inside an annotation like `list[RuleSpec]` or `LevelsSpec | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
