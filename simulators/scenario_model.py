"""The pieces of an incident scenario: the YAML document's shape, its rules, compiled effects.

Pydantic checks the structure (types, required keys, no unknown keys); `check_effect` and
`check_alert` hold the rules that need the registry or several fields, each finding naming its
exact key. `scenarios.py` runs them, reports the problems and builds a `Scenario` from the parts.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from schemas.durations import Duration, Offset, format_duration
from schemas.geography import Geography
from schemas.registry import Registry
from schemas.sensor_type import (
    NAME_PATTERN,
    BilingualName,
    Grade,
    Metric,
    MetricKind,
    SensorType,
)
from simulators.model import SimSensor

DISTRICT = "district"  # an expected alert anywhere in the configured geography (any district)
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG); plenty for distances inside a district
OPERATIONS = ("multiply", "add", "set")
Finding = tuple[str, str]  # (dotted key, message)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_clock(value: object) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 14:00 as the base-60 number 840; never guess it back.
        raise ValueError(f"write the time in quotes, like '14:00' (YAML read it as {value})")
    if isinstance(value, str) and (match := _CLOCK.match(value.strip())):
        return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"expected a local time like '14:00', got {value!r}")


LocalTime = Annotated[time, BeforeValidator(_parse_clock)]


# --- the document, as written in YAML -------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NearSpec(_Strict):
    lat: float
    lon: float
    radius_m: float


class SelectSpec(_Strict):
    type: str
    subdistricts: list[str] | None = None
    share: float = 1.0
    near: NearSpec | None = None


class EffectSpec(_Strict):
    select: SelectSpec
    metric: str
    multiply: float | None = None
    add: float | None = None
    set: float | None = None
    start: Offset = 0.0
    end: Offset | None = None  # when the return begins; default: the scenario's duration
    ramp_in: Offset = 0.0
    ramp_out: Offset = 0.0


class ExpectedAlertSpec(_Strict):
    type: str
    metric: str
    subdistrict: str
    grade: Grade
    within: Duration


class ScenarioDocument(_Strict):
    """The top level; effects and expected alerts are checked one by one (see scenarios.py), so
    a typo in one effect does not hide the problems of the others."""

    name: str = Field(pattern=NAME_PATTERN)
    display_name: BilingualName
    description: str = Field(min_length=1)
    duration: Duration
    # Shanghai time of day the drill is written for: daily profiles move baselines, so the
    # expected alerts hold at this hour (a heatwave at 03:00 would not overload anything).
    time_of_day: LocalTime | None = None
    effects: list[dict[str, Any]] = Field(min_length=1)
    expected_alerts: list[dict[str, Any]] = Field(default_factory=list)


# --- compiled, what the simulator uses ------------------------------------------------------


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Selection:
    type: str
    subdistricts: frozenset[str] | None  # None: every subdistrict
    share: float
    near: Near | None = None

    def matches(self, sensor: SimSensor, draw: float) -> bool:
        """`draw` is the sensor's own uniform number in [0, 1) for this scenario: comparing it
        with the share keeps the choice stable across runs, and the same draw for every effect
        makes the selections nest (the sensors of share 0.4 are among those of share 0.8)."""
        if sensor.type_name != self.type or draw >= self.share:
            return False
        if self.subdistricts is not None and sensor.subdistrict not in self.subdistricts:
            return False
        near = self.near
        return near is None or distance_m(near.lat, near.lon, sensor.lat, sensor.lon) <= (
            near.radius_m
        )


@dataclass(frozen=True)
class ScenarioEffect:
    """One change to one metric of the selected sensors, over a window of the scenario.

    Times are seconds after the scenario start: full strength from `start_s + ramp_in_s` to
    `end_s`, then a linear return over `ramp_out_s`.
    """

    selection: Selection
    metric: str
    multiply: float = 1.0
    add: float = 0.0
    set: float | None = None
    start_s: float = 0.0
    end_s: float = 0.0
    ramp_in_s: float = 0.0
    ramp_out_s: float = 0.0
    stepped: bool = False  # a state metric: each sensor switches at once, see scenarios.py

    @property
    def over_s(self) -> float:
        return self.end_s + self.ramp_out_s

    def weight_at(self, elapsed_s: float) -> float:
        """0 before the start, linear up to 1 over ramp_in, 1 until the end, linear back to 0."""
        if elapsed_s < self.start_s or elapsed_s >= self.over_s:
            return 0.0
        if elapsed_s < self.end_s:
            if self.ramp_in_s == 0:
                return 1.0
            return min(1.0, (elapsed_s - self.start_s) / self.ramp_in_s)
        # ramp_out_s > 0 here: with no ramp out, over_s == end_s and we returned above.
        return 1.0 - (elapsed_s - self.end_s) / self.ramp_out_s

    def affine(self, weight: float) -> tuple[float, float]:
        """(m, a) such that the weighted effect maps a value v to v * m + a: every effect is
        affine in v, which is what lets several effects on one metric fold into one `Effect`."""
        if self.set is not None:
            return 1.0 - weight, self.set * weight
        return 1.0 + (self.multiply - 1.0) * weight, self.add * weight


@dataclass(frozen=True)
class ExpectedAlert:
    """An alert the default thresholds should raise: at least `grade`, no later than `within_s`
    after the start, for a sensor of `type` in `subdistrict` (or anywhere in the configured
    geography, for 'district')."""

    type: str
    metric: str
    subdistrict: str
    grade: Grade
    within_s: float


def draw(*parts: str) -> float:
    """A uniform number in [0, 1) from the parts, the same in every process (unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return float(struct.unpack("<Q", digest)[0] / 2**64)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def scenario_end_s(effects: list[EffectSpec], duration_s: float) -> float:
    """When nothing applies any more: the duration, or later if an effect ramps out after it."""
    ends = ((duration_s if e.end is None else e.end) + e.ramp_out for e in effects)
    return max(duration_s, max(ends, default=0.0))


# --- rules that need the registry or several fields --------------------------------------------


def check_effect(
    key: str,
    spec: EffectSpec,
    registry: Registry,
    geography: Geography,
    duration_s: float | None,
) -> Iterator[Finding]:
    select = spec.select
    sensor_type = registry.get(select.type)
    if sensor_type is None:
        suggestion = _suggest(select.type, registry.types)
        yield f"{key}.select.type", f"unknown sensor type {select.type!r}{suggestion}"
    if select.subdistricts is not None:
        if not select.subdistricts:
            yield (
                f"{key}.select.subdistricts",
                "an empty list selects nothing; leave it out for all",
            )
        for position, code in enumerate(select.subdistricts):
            if code not in geography:
                where = f"{key}.select.subdistricts[{position}]"
                yield where, _unknown_subdistrict(code, geography)
    if not 0 < select.share <= 1:
        yield (
            f"{key}.select.share",
            f"{select.share:g} is outside 0..1 (the fraction of matching sensors affected; "
            "0 would select none)",
        )
    if select.near is not None:
        if geography.locate(select.near.lat, select.near.lon) is None:
            yield (
                f"{key}.select.near",
                f"({select.near.lat}, {select.near.lon}) is outside every configured district "
                f"({geography.describe()})",
            )
        if select.near.radius_m <= 0:
            yield f"{key}.select.near.radius_m", f"{select.near.radius_m:g} must be positive"
    given = [op for op in OPERATIONS if getattr(spec, op) is not None]
    if len(given) != 1:
        found = ", ".join(given) or "none"
        yield key, f"give exactly one of multiply, add or set (found: {found})"
    if sensor_type is not None:
        yield from _check_change(key, spec, sensor_type, given)
    if duration_s is not None:
        yield from _check_window(key, spec, duration_s)


def _check_change(
    key: str, spec: EffectSpec, sensor_type: SensorType, given: list[str]
) -> Iterator[Finding]:
    metric = sensor_type.metrics.get(spec.metric)
    where = f"{sensor_type.name}.{spec.metric}"
    if metric is None:
        known = ", ".join(sensor_type.metrics)
        yield f"{key}.metric", f"unknown metric {spec.metric!r} of {sensor_type.name} ({known})"
    elif metric.kind is MetricKind.COUNTER:
        yield (
            f"{key}.metric",
            f"{where} is a counter (a cumulative total) and cannot be changed; "
            "change the rate metric beside it",
        )
    elif metric.kind is MetricKind.STATE:
        for op in given:
            if op != "set":
                yield f"{key}.{op}", f"{where} is a state (0/1): only 'set: 0' or 'set: 1' applies"
        if spec.set is not None and spec.set not in (0, 1):
            yield f"{key}.set", f"{spec.set:g} is not a state: {where} takes 0 or 1"
    else:
        low, high = metric.range.min, metric.range.max
        if spec.set is not None and not low <= spec.set <= high:
            yield (
                f"{key}.set",
                f"{spec.set:g} is outside the physical range [{low:g}, {high:g}] {metric.unit} "
                f"of {where}",
            )
        if spec.multiply is not None and spec.multiply < 0:
            yield f"{key}.multiply", f"{spec.multiply:g} would flip the sign of a physical reading"


def _check_window(key: str, spec: EffectSpec, duration_s: float) -> Iterator[Finding]:
    end = duration_s if spec.end is None else spec.end
    if end > duration_s:
        yield (
            f"{key}.end",
            f"{format_duration(end)} is after the scenario's duration "
            f"({format_duration(duration_s)}); lengthen the duration or use ramp_out",
        )
    if spec.start >= end:
        start, stop = format_duration(spec.start), format_duration(end)
        yield f"{key}.start", f"{start} is not before the effect's end ({stop})"
    elif spec.ramp_in > end - spec.start:
        yield (
            f"{key}.ramp_in",
            f"{format_duration(spec.ramp_in)} is longer than the effect's window "
            f"({format_duration(end - spec.start)} from start to end): it never reaches full "
            "strength",
        )


def check_alert(
    key: str,
    alert: ExpectedAlertSpec,
    registry: Registry,
    geography: Geography,
    context: tuple[list[EffectSpec], float] | None,
) -> Iterator[Finding]:
    """`context`: the scenario's effects and end when they are all sound, else None (the checks
    against them are skipped rather than reporting consequences of another problem)."""
    sensor_type = registry.get(alert.type)
    metric = None if sensor_type is None else sensor_type.metrics.get(alert.metric)
    if sensor_type is None:
        suggestion = _suggest(alert.type, registry.types)
        yield f"{key}.type", f"unknown sensor type {alert.type!r}{suggestion}"
    elif metric is None:
        known = ", ".join(sensor_type.metrics)
        yield f"{key}.metric", f"unknown metric {alert.metric!r} of {alert.type} ({known})"
    elif not any(alert.grade in grades for grades in _graded(metric).values()):
        declared = "; ".join(f"{d}: {', '.join(g)}" for d, g in _graded(metric).items())
        yield (
            f"{key}.grade",
            f"{alert.type}.{alert.metric} has no {alert.grade.value} threshold by default "
            f"({declared or 'no thresholds at all'})",
        )
    known_place = alert.subdistrict == DISTRICT or alert.subdistrict in geography
    if not known_place:
        yield f"{key}.subdistrict", _unknown_subdistrict(alert.subdistrict, geography, DISTRICT)
    if context is None:
        return
    effects, end_s = context
    if alert.within > end_s:
        yield (
            f"{key}.within",
            f"{format_duration(alert.within)} is after the scenario is over "
            f"({format_duration(end_s)} with the ramps out)",
        )
    # An expectation no effect drives is no test of the alert engine: it could only come from
    # the simulator's normal noise.
    if metric is not None and known_place and not any(_drives(e, alert) for e in effects):
        place = "anywhere" if alert.subdistrict == DISTRICT else f"in {alert.subdistrict}"
        where = f"{alert.type}.{alert.metric}"
        yield key, f"no effect changes {where} {place}: nothing would raise this alert"


def _drives(effect: EffectSpec, alert: ExpectedAlertSpec) -> bool:
    if (effect.select.type, effect.metric) != (alert.type, alert.metric):
        return False
    places = effect.select.subdistricts
    return places is None or alert.subdistrict == DISTRICT or alert.subdistrict in places


def _graded(metric: Metric) -> dict[str, list[str]]:
    """Direction -> grades the metric's default thresholds declare."""
    thresholds = metric.thresholds
    if thresholds is None:
        return {}
    directions = (("below", thresholds.below), ("above", thresholds.above))
    return {d: [g.value for g, _ in lv.levels()] for d, lv in directions if lv is not None}


def _suggest(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (one of: {', '.join(sorted(known))})"


def _unknown_subdistrict(code: str, geography: Geography, *extra: str) -> str:
    known: dict[str, object] = {**geography.subdistricts, **dict.fromkeys(extra)}
    return f"unknown subdistrict {code!r}{_suggest(code, known)}"
