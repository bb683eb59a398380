"""Check decoded reports against one sensor type: names, units, states, precision, ranges.

Everything a reading can need is prepared when the validator is built (once per type at start
and when types change), never per reading: the table of names devices send (metric names and
`aliases`), the conversion factors from every unit spelling of the metric's quantity
(`schemas.units.spellings_like`), the state labels. A unit not prepared is asked of pint once and
its answer (factors or refusal) kept, up to `MAX_LEARNED_UNITS` per metric.

Order for one value: unit conversion -> range check (in the declared unit) -> rounding to the
metric's precision: ``round(value * 10^p) / 10^p``, to the nearest, halves to even (0.25 -> 0.2
at precision 1; 0.15 -> 0.2, as written). Scaling first costs half of ``round(value, p)`` and
rounds the decimal a device wrote rather than its binary neighbour; the registry keeps
range x 10^p within a double's exact integers so it is exact. Precision 0 with
``integer: reject`` refuses fractions instead; state indexes must be whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.registry import Registry
from schemas.sensor_type import IntegerPolicy, Metric, MetricKind, SensorType
from schemas.telemetry import (
    Rejection,
    RejectReason,
    Report,
    clip_field,
    json_type,
    number_text,
    reject,
    show,
)
from schemas.units import Conversion, UnitError, conversion, spellings_like

MAX_LEARNED_UNITS = 64  # unit texts come from devices: a bounded memory of the unprepared ones
_MISSING = object()
_SPAN_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
_SAME = Conversion(1.0, 0.0)


@dataclass(slots=True)
class _Rule:
    """One metric, as the slow path needs it."""

    name: str
    low: float
    high: float
    unit: str
    range_text: str  # "[0, 1.6] MPa", prebuilt for details
    scale: float  # 10^precision: stored = round(value * scale) / scale
    whole: bool  # floats must be whole numbers (states, or precision 0 with integer: reject)
    booleans: bool  # true/false accepted (two-state metrics)
    states: dict[str, int] | None
    states_text: str
    units: dict[str, Conversion | str] = field(default_factory=dict)  # text -> factors or why not
    factors_by_unit: dict[str, tuple[float, float]] = field(default_factory=dict)  # hot loop's
    learned: int = 0

    def factors(self, unit: str) -> Conversion | str:
        known = self.units.get(unit)
        if known is not None:
            return known
        try:
            found: Conversion | str = conversion(unit, self.unit)
        except UnitError as error:
            found = str(error)
        if self.learned < MAX_LEARNED_UNITS:
            self.units[unit] = found
            if not isinstance(found, str):
                self.factors_by_unit[unit] = (found.scale, found.offset)
            self.learned += 1
        return found


def _rule(name: str, metric: Metric) -> _Rule:
    low, high = metric.range.min, metric.range.max
    states = metric.states
    labels = {label: index for index, label in enumerate(states)} if states else None
    state = metric.kind is MetricKind.STATE
    whole = state or (metric.precision == 0 and metric.integer is IntegerPolicy.REJECT)
    rule = _Rule(
        name=name,
        low=low,
        high=high,
        unit=metric.unit,
        range_text=f"[{number_text(low)}, {number_text(high)}] {metric.unit}",
        scale=10.0**metric.precision,
        whole=whole,
        booleans=state and (states is None or len(states) == 2),
        states=labels,
        states_text=", ".join(f"{label} ({i})" for label, i in (labels or {}).items()),
    )
    prepared = {text: conversion(text, metric.unit) for text in spellings_like(metric.unit)}
    prepared[metric.unit] = _SAME
    rule.units = dict(prepared)
    rule.factors_by_unit = {text: (c.scale, c.offset) for text, c in prepared.items()}
    return rule


class TypeValidator:
    """Checks reports against one sensor type; build once per type (see `validators_for`)."""

    __slots__ = ("_fast", "_known", "_rules", "data_model", "domain", "name", "sensor_type")

    def __init__(self, sensor_type: SensorType) -> None:
        self.sensor_type = sensor_type
        self.name = sensor_type.name
        self.domain = str(sensor_type.domain)
        self.data_model = sensor_type.data_model
        self._rules: dict[str, _Rule] = {}
        for name, metric in sensor_type.metrics.items():
            rule = _rule(name, metric)
            self._rules[name] = rule
            for alias in metric.aliases:
                self._rules[alias] = rule
        # The hot loop needs one dict lookup per value: the stored name, the bounds, the
        # rounding scale 10^precision (0: floats take the slow path, they must be whole) and
        # the prepared unit factors.
        self._fast = {
            sent: (r.name, r.low, r.high, 0.0 if r.whole else r.scale, r.factors_by_unit)
            for sent, r in self._rules.items()
        }
        self._known = ", ".join(sorted(sensor_type.metrics))

    def check(
        self,
        report: Report,
        *,
        now: datetime,
        max_future: timedelta,
        max_age: timedelta,
        field_prefix: str = "",
    ) -> tuple[list[tuple[str, float]], list[Rejection]]:
        """(good (metric, value) pairs, one Rejection per bad metric). A timestamp outside
        [now - max_age, now + max_future] rejects the whole report: no good values."""
        ts = report.ts
        if ts > now + max_future or ts < now - max_age:
            return [], [_window(ts, now, max_future, max_age, f"{field_prefix}ts")]
        if report.data_model is not None and self.data_model not in (None, report.data_model):
            return [], [self._wrong_model(report.data_model, field_prefix)]
        good: list[tuple[str, float]] = []
        bad: list[Rejection] = []
        fast = self._fast
        for name, raw in report.values:
            entry = fast.get(name)
            if entry is not None:
                metric, low, high, scale, units = entry
                # `+ 0.0` makes ints floats and -0.0 plain 0.0; NaN fails the range test.
                if type(raw) is int:
                    if low <= raw <= high:
                        good.append((metric, raw + 0.0))
                        continue
                elif type(raw) is float:
                    if scale and low <= raw <= high:
                        good.append((metric, round(raw * scale) / scale))
                        continue
                elif type(raw) is dict and scale:  # {"value", "unit"}: a prepared unit
                    sent = raw.get("value")
                    if type(sent) is float or type(sent) is int:
                        try:
                            factor, offset = units[raw["unit"]]
                        except (KeyError, TypeError):  # no unit, another one, or not a string
                            pass
                        else:
                            value = sent * factor + offset
                            if low <= value <= high:
                                good.append((metric, round(value * scale) / scale))
                                continue
            result = self._slow(name, raw, field_prefix, report.data_model is not None)
            if isinstance(result, Rejection):
                bad.append(result)
            elif result is not None:
                good.append(result)
        return good, bad

    def _slow(
        self, name: str, raw: object, prefix: str, fiware: bool
    ) -> tuple[str, float] | Rejection | None:
        """Everything but a plain in-range number: unit objects, labels, booleans, fractions
        of whole-number metrics, and every error. None: an attribute of a FIWARE entity that is
        no measurement of this type (text, objects), ignored."""
        rule = self._rules.get(name)
        if rule is None:
            if fiware and not isinstance(raw, int | float | dict):
                return None
            what = f"{self.name} has no metric {show(name)}; expected one of {self._known}"
            if fiware:
                what += " (or one of their aliases)"
            return reject(RejectReason.UNKNOWN_METRIC, _field(prefix, name), what)
        factors, sent_unit = _SAME, None
        if type(raw) is dict:
            value, unit = raw.get("value", _MISSING), raw.get("unit", _MISSING)
            if value is _MISSING or unit is _MISSING:
                absent = "value" if value is _MISSING else "unit"
                what = f"the {{value, unit}} object has no {absent!r} (declared unit {rule.unit!r})"
                return reject(RejectReason.MISSING_FIELD, _field(prefix, name), what)
            if type(unit) is not str:
                what = f"unit must be a string, got {json_type(unit)} (declared {rule.unit!r})"
                return reject(RejectReason.WRONG_UNIT, _field(prefix, name), what)
            found = rule.factors(unit)
            if type(found) is str:
                return reject(RejectReason.WRONG_UNIT, _field(prefix, name), found)
            assert isinstance(found, Conversion)
            factors, raw = found, value
            sent_unit = None if unit == rule.unit else unit
        result = _value(raw, rule, factors, sent_unit)
        if isinstance(result, tuple):
            return reject(result[0], _field(prefix, name), result[1])
        return rule.name, result

    def _wrong_model(self, model: str, prefix: str) -> Rejection:
        what = f"the entity is a {show(model)} but sensor type {self.name!r} follows "
        return reject(RejectReason.TYPE_MISMATCH, f"{prefix}type", f"{what}{self.data_model!r}")


_WRONG, _RANGE = RejectReason.WRONG_VALUE_TYPE, RejectReason.OUT_OF_RANGE


def _value(
    raw: object, rule: _Rule, factors: Conversion, sent_unit: str | None
) -> float | tuple[RejectReason, str]:
    """The stored value, or why not (reason, sentence)."""
    if type(raw) is str and rule.states is not None:
        index = rule.states.get(raw)
        if index is None:
            return _WRONG, f"state {show(raw)} is not declared; expected one of {rule.states_text}"
        return float(index)
    if type(raw) is bool:
        if rule.booleans:
            return 1.0 if raw else 0.0
        expected = "a state label or index" if rule.states else "a number"
        what = f"got {json_type(raw)}; booleans are only for two-state metrics, expected "
        return _WRONG, f"{what}{expected} in {rule.unit!r}"
    if not isinstance(raw, int | float):
        expected = f"a state label or index ({rule.states_text})" if rule.states else "a number"
        return _WRONG, f"got {json_type(raw)}; expected {expected} in {rule.unit!r}"
    try:
        sent = float(raw) + 0.0
    except OverflowError:  # an integer beyond a double: only in a Report built by hand
        sent = math.inf
    if math.isnan(sent) or (math.isinf(sent) and type(raw) is float):
        what = "NaN" if math.isnan(sent) else "Infinity (or a number beyond ±1.8e308)"
        return RejectReason.NOT_FINITE, f"{what} is not a finite number"
    value = sent * factors.scale + factors.offset
    shown = f"{show(raw)} {rule.unit}" if sent_unit is None else f"{show(raw)} {sent_unit} ("
    if sent_unit is not None:
        shown += f"{value:.6g} {rule.unit})"
    if not rule.low <= value <= rule.high:
        if rule.states is not None:
            return _RANGE, f"{shown} is not a state index; expected one of {rule.states_text}"
        return _RANGE, f"{shown} is outside the physical range {rule.range_text}"
    if rule.whole:
        if not value.is_integer():
            if rule.states is not None:
                return _WRONG, f"{shown} is not a state index; expected one of {rule.states_text}"
            return _WRONG, f"{shown} is not a whole number (precision 0, integer: reject)"
        return value + 0.0
    return round(value * rule.scale) / rule.scale


def _field(prefix: str, name: str) -> str:
    return f"{prefix}metrics.{clip_field(name)}"


def _window(
    ts: datetime, now: datetime, max_future: timedelta, max_age: timedelta, field: str
) -> Rejection:
    if ts > now:
        ahead = f"{ts.isoformat()} is {_span(ts - now)} ahead of the server clock (at most "
        ahead += f"{_span(max_future)} allowed; is the device clock set?)"
        return reject(RejectReason.FUTURE_TIMESTAMP, field, ahead)
    old = f"{ts.isoformat()} is {_span(now - ts)} old (at most {_span(max_age)} accepted)"
    return reject(RejectReason.TOO_OLD, field, old)


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    size, unit = next((u for u in _SPAN_UNITS if seconds >= u[0]), _SPAN_UNITS[-1])
    return f"{seconds / size:,.1f}".removesuffix(".0") + f" {unit}"


def validators_for(registry: Registry) -> dict[str, TypeValidator]:
    """One TypeValidator per sensor type, by type name; build at start-up and pass around."""
    return {sensor_type.name: TypeValidator(sensor_type) for sensor_type in registry}
