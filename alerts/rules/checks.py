"""Checks behind rule-file loading: each finding names the file and the dotted key it concerns.

`Checker` accumulates Problems instead of raising at the first one, so an engineer fixes a whole
folder of rule files in one pass (the registry's way). It also holds the rules merged so far,
starting with the defaults, so duplicate ids and overlapping overrides are caught across files.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import timedelta

from alerts.file_problems import FileProblems, Report, did_you_mean
from alerts.rules.defaults import default_rules
from alerts.rules.rule import (
    SHARE_OFFLINE_RANGE,
    THRESHOLD_KINDS,
    WIDE_KINDS,
    Aggregate,
    ConditionKind,
    Direction,
    Levels,
    Rule,
    SubjectKind,
    Timing,
    build_levels,
)
from alerts.rules.schedules import build_schedules, rebase_schedules
from alerts.rules.specs import LevelsSpec, OverrideSpec, RuleSpec, state_in_spec
from alerts.rules.states import state_in_condition
from schemas.errors import Problem
from schemas.geography import Geography
from schemas.grades import GRADES_BY_SEVERITY, Grade
from schemas.inventory import SENSOR_ID_PATTERN
from schemas.registry import Registry
from schemas.sensor_type import Metric, MetricKind, SensorType

FORMAT_HINT = "the format is in alerts/rules/files.py"
# Conditions on one sensor's own signal (silence, a stuck value, a state): no aggregate, no window.
_SINGLE_SENSOR_KINDS = frozenset(
    {ConditionKind.ABSENCE, ConditionKind.FLATLINE, ConditionKind.STATE_IN}
)
# A counter's level is a running total; only its movement (or a stuck meter) means anything.
_COUNTER_KINDS = frozenset({ConditionKind.RATE_OF_CHANGE, ConditionKind.FLATLINE})


@dataclass(frozen=True)
class Bounds:
    """What a rule's thresholds compare against: a physical range, or a per-minute rate."""

    range: tuple[float, float] | None
    unit: str
    rate_span: float | None = None  # rates: the metric's whole range, the most it can move


def bounds_for(kind: ConditionKind, aggregate: Aggregate | None, metric: Metric | None) -> Bounds:
    if aggregate is Aggregate.SHARE_OFFLINE:
        return Bounds(SHARE_OFFLINE_RANGE, "%")
    if metric is None:
        return Bounds(None, "")
    span = metric.range.max - metric.range.min
    if kind is ConditionKind.RATE_OF_CHANGE:
        return Bounds(None, f"{metric.unit}/min", rate_span=span)
    if aggregate is Aggregate.SUM:  # a sum grows with the number of sensors: no fixed range
        return Bounds(None, metric.unit)
    return Bounds((metric.range.min, metric.range.max), metric.unit)


class Checker:
    def __init__(self, registry: Registry, geography: Geography) -> None:
        self.registry = registry
        self.geography = geography  # subdistrict codes in rules are checked against it
        self.problems: list[Problem] = []
        self.rules: dict[str, Rule] = {rule.id: rule for rule in default_rules(registry)}
        self.origin: dict[str, str] = {}  # rule id -> "file key" where a file defined it
        self.overridden: dict[str, str] = {}  # rule id -> where its whole-type override is
        self.variants: dict[str, list[tuple[Rule, str]]] = {}  # family -> (variant, where)

    def file(self, source: str) -> FileProblems:
        """The problems of one rule file, recorded with the folder's."""
        return FileProblems(source, FORMAT_HINT, self.problems)

    def at(self, source: str, key: str) -> Report:
        """Records problems of the item at `key` of `source`, keys relative to it."""
        return self.file(source).below(key)

    def check_subject(
        self, at: Report, spec: RuleSpec, kind: ConditionKind, sensor_type: SensorType
    ) -> Metric | None:
        subject = spec.subject
        if subject is SubjectKind.SENSOR:
            if spec.aggregate is not None:
                at("aggregate", "only subject: subdistrict, district or city rules aggregate")
        else:
            if spec.aggregate is None:
                at("aggregate", f"a {subject} rule needs one of: {', '.join(Aggregate)}")
            if spec.sensors is not None:
                at("sensors", f"a {subject} rule is about places, not single sensors")
            if subject in WIDE_KINDS and spec.subdistricts is not None:
                covers = (
                    f"the whole city ({self.geography.city.zh}: {self.geography.describe()})"
                    if subject is SubjectKind.CITY
                    else f"each whole district ({self.geography.describe()})"
                )
                at("subdistricts", f"a {subject} rule covers {covers}; use subject: subdistrict")
            if kind in _SINGLE_SENSOR_KINDS:
                at(kind.value, f"{kind} watches single sensors; for places use share_offline")
        if kind is ConditionKind.ABSENCE or spec.aggregate is Aggregate.SHARE_OFFLINE:
            if spec.metric is not None:
                at("metric", "this rule watches whole sensors, not a metric: remove 'metric'")
            return None
        if spec.metric is None:
            at("metric", "required key is missing")
            return None
        metric = sensor_type.metrics.get(spec.metric)
        if metric is None:
            known = ", ".join(sensor_type.metrics)
            at("metric", f"unknown metric {spec.metric!r} of {sensor_type.name} (one of: {known})")
        elif metric.kind is MetricKind.COUNTER and kind not in _COUNTER_KINDS:
            at("metric", f"{spec.metric} is a cumulative counter: alert on its rate_of_change")
        elif metric.states and kind not in (ConditionKind.STATE_IN, ConditionKind.FLATLINE):
            at(
                kind.value,
                f"{spec.metric} is an enumerated state ({', '.join(metric.states)}): its values "
                "are labels, not amounts; name the states with state_in",
            )
        return metric

    def check_window(self, at: Report, spec: RuleSpec, kind: ConditionKind) -> None:
        over, window = spec.over.value, spec.window
        if kind in _SINGLE_SENSOR_KINDS:
            if over != "latest":
                at("over", f"{kind} rules compare no value, so nothing to aggregate")
            if window is not None:
                at("window", f"{kind} rules have no window")
        elif kind is ConditionKind.RATE_OF_CHANGE:
            if over != "latest":
                at("over", "a rate is computed from the readings; set only 'window' for it")
        elif over == "latest" and window is not None:
            at("window", "a window needs over: avg, min or max")
        elif over != "latest" and window is None:
            at("window", f"over: {over} needs the window to aggregate over, e.g. window: 10m")

    def check_subdistricts(
        self, at: Report, codes: list[str] | None, base: Rule | None
    ) -> frozenset[str] | None:
        if codes is None:
            return None if base is None else base.scope.subdistricts
        for j, code in enumerate(codes):
            if code not in self.geography:
                known = self.geography.subdistricts
                at(f"subdistricts[{j}]", f"unknown subdistrict {code!r}{did_you_mean(code, known)}")
        if base is not None:
            if base.subject_kind in WIDE_KINDS:
                at(
                    "subdistricts",
                    f"{base.id!r} is {base.subject_kind}-wide; it has no subdistricts to narrow",
                )
            elif base.scope.subdistricts is not None:
                wider = sorted(set(codes) - base.scope.subdistricts)
                if wider:
                    at(
                        "subdistricts",
                        f"an override can only narrow {base.id!r}: {wider} are "
                        f"outside its subdistricts {sorted(base.scope.subdistricts)}",
                    )
        return frozenset(codes)

    def check_sensors(
        self, at: Report, ids: list[str] | None, base: Rule | None
    ) -> frozenset[str] | None:
        if ids is None:
            return None if base is None else base.scope.sensors
        for j, sensor_id in enumerate(ids):
            if not re.match(SENSOR_ID_PATTERN, sensor_id):
                at(f"sensors[{j}]", f"{sensor_id!r} is not a sensor id ({SENSOR_ID_PATTERN})")
        if base is not None:
            if base.subject_kind is not SubjectKind.SENSOR:
                at("sensors", f"{base.id!r} is about places, not single sensors")
            elif base.scope.sensors is not None:
                wider = sorted(set(ids) - base.scope.sensors)
                if wider:
                    at(
                        "sensors",
                        f"an override can only narrow {base.id!r}: {wider} are not "
                        "among its sensors",
                    )
        return frozenset(ids)

    def levels(
        self, at: Report, key: str, spec: LevelsSpec | None, bounds: Bounds, direction: Direction
    ) -> Levels | None:
        if spec is None:
            return None
        mark = len(self.problems)
        declared = [(g, v) for g in GRADES_BY_SEVERITY if (v := getattr(spec, g.value)) is not None]
        if not declared:
            at(key, "declare at least one of blue, yellow, orange, red")
            return None
        for grade, value in declared:
            self._in_bounds(at, f"{key}.{grade}", value, bounds)
        above = direction is Direction.ABOVE
        for (milder, mild), (worse, bad) in itertools.pairwise(declared):
            if not (bad > mild if above else bad < mild):
                at(
                    f"{key}.{worse}",
                    f"{worse} ({bad:g}) must be {direction} {milder} ({mild:g}): "
                    "more severe grades need worse values",
                )
        thresholds = dict(declared)
        recovery: dict[Grade, float] = {}
        for grade in GRADES_BY_SEVERITY:
            level = None if spec.recovery is None else getattr(spec.recovery, grade.value)
            if level is None:
                continue
            recovery[grade] = level
            where = f"{key}.recovery.{grade}"
            if grade not in thresholds:
                at(where, f"there is no {grade} threshold to recover from")
            elif (level > thresholds[grade]) if above else (level < thresholds[grade]):
                side, way = ("at or below", "back down") if above else ("at or above", "back up")
                at(
                    where,
                    f"recovery ({level:g}) must be {side} the {grade} threshold "
                    f"({thresholds[grade]:g}): the value recovers by coming {way}",
                )
            self._in_bounds(at, where, level, bounds)
        if spec.hysteresis is not None and bounds.range is not None:
            lo, hi = bounds.range
            for grade, value in declared:
                level = value - spec.hysteresis if above else value + spec.hysteresis
                if grade not in recovery and not lo <= level <= hi:
                    at(
                        f"{key}.hysteresis",
                        f"a margin of {spec.hysteresis:g} puts the {grade} "
                        f"recovery level at {level:g}, outside the physical range [{lo:g}, {hi:g}]",
                    )
        if len(self.problems) > mark:
            return None
        return build_levels(
            direction,
            declared,
            value_range=bounds.range,
            recovery=recovery,
            hysteresis=spec.hysteresis,
        )

    def _in_bounds(self, at: Report, key: str, value: float, bounds: Bounds) -> None:
        if bounds.range is not None:
            lo, hi = bounds.range
            if not lo <= value <= hi:
                at(key, f"{value:g} is outside the physical range [{lo:g}, {hi:g}] {bounds.unit}")
        elif bounds.rate_span is not None and abs(value) > bounds.rate_span:
            at(
                key,
                f"a change of {value:g} {bounds.unit} is more than the whole physical range "
                f"({bounds.rate_span:g})",
            )

    def check_overlap(
        self, at: Report, key: str, above: Levels | None, below: Levels | None
    ) -> None:
        if above is None or below is None:
            return
        if max(below.thresholds) >= min(above.thresholds):
            at(
                key,
                f"'below' thresholds (up to {max(below.thresholds):g}) overlap 'above' "
                f"thresholds (from {min(above.thresholds):g}): too high and too low at once",
            )

    def patch(self, at: Report, base: Rule, spec: OverrideSpec, source: str) -> Rule | None:
        """`base` with the override's changes, or None when they do not fit it."""
        mark = len(self.problems)
        cond = base.condition
        kind = cond.kind
        sensor_type = self.registry.types[base.scope.type_name]
        metric = None if base.metric is None else sensor_type.metrics.get(base.metric)
        bounds = bounds_for(kind, base.aggregate, metric)
        replaced: dict[Direction, Levels | None] = {}
        for direction, block in ((Direction.ABOVE, spec.above), (Direction.BELOW, spec.below)):
            if block is None:
                continue
            if kind not in THRESHOLD_KINDS or cond.levels(direction) is None:
                at(
                    direction.value,
                    f"{base.id!r} has no '{direction}' thresholds to replace (it is a {kind} rule)",
                )
                continue
            replaced[direction] = self.levels(at, direction.value, block, bounds, direction)
        if spec.grade is not None and kind not in _SINGLE_SENSOR_KINDS:
            at("grade", f"{base.id!r} takes its grades from its thresholds")
        states = cond.states
        if spec.state_in is not None:
            if kind is not ConditionKind.STATE_IN:
                at("state_in", f"{base.id!r} is not a state_in rule (it is {_article(kind)} rule)")
            else:
                state_in = state_in_condition(at, spec.state_in, metric, base.metric or "")
                states = None if state_in is None else state_in.states
        if spec.intervals is not None and kind is not ConditionKind.ABSENCE:
            at("intervals", f"only absence rules count reporting intervals ({base.id!r} is {kind})")
        if spec.unchanged_for is not None and kind is not ConditionKind.FLATLINE:
            at("unchanged_for", f"only flatline rules have it ({base.id!r} is {kind})")
        above = replaced.get(Direction.ABOVE, cond.above)
        below = replaced.get(Direction.BELOW, cond.below)
        self.check_overlap(at, "", above, below)
        intervals = spec.intervals or cond.intervals
        silence = cond.silence
        if spec.intervals is not None:
            silence = timedelta(seconds=sensor_type.reporting_interval * spec.intervals)
        unchanged = cond.unchanged_for
        if spec.unchanged_for is not None:
            unchanged = timedelta(seconds=spec.unchanged_for)
        grade = spec.grade or cond.grade
        if spec.state_in is not None and spec.grade is None:
            grade = state_in_spec(spec.state_in).grade
        condition = replace(
            cond,
            above=above,
            below=below,
            grade=grade,
            states=states,
            intervals=intervals,
            silence=silence,
            unchanged_for=unchanged,
        )
        if spec.schedules is not None:
            schedules = build_schedules(
                at,
                spec.schedules,
                condition,
                lambda key, block, d: self.levels(at, key, block, bounds, d),
                lambda key, up, down: self.check_overlap(at, key, up, down),
            )
        else:
            schedules = rebase_schedules(
                base.schedules,
                cond,
                condition,
                lambda key, up, down: self.check_overlap(at, key, up, down),
            )
        if len(self.problems) > mark:
            return None
        hold = base.timing.hold if spec.hold is None else timedelta(seconds=spec.hold)
        keep = base.timing.keep_firing_for
        if spec.keep_firing_for is not None:
            keep = timedelta(seconds=spec.keep_firing_for)
        disabled = base.disabled if spec.disabled is None else spec.disabled
        return replace(
            base,
            condition=condition,
            timing=Timing(hold, keep),
            disabled=disabled,
            description=spec.description or base.description,
            source=source,
            schedules=schedules,
        )

    def register(self, rule: Rule, at: Report, key: str, where: str) -> bool:
        if rule.id in self.rules:
            first = self.origin.get(rule.id, "the defaults")
            at(key, f"duplicate rule id {rule.id!r}: already defined in {first}")
            return False
        self.rules[rule.id] = rule
        self.origin[rule.id] = where
        return True

    def check_variant_overlap(self, at: Report, variant: Rule) -> bool:
        """Two overrides of one rule, equally specific, may not both cover a sensor: neither
        would be "the most specific" and which one applied would depend on file order."""
        scope = variant.scope
        for other, where in self.variants.get(variant.family, []):
            if other.scope.specificity != scope.specificity:
                continue
            if _overlap(other.scope.subdistricts, scope.subdistricts) and _overlap(
                other.scope.sensors, scope.sensors
            ):
                key = "sensors" if scope.sensors is not None else "subdistricts"
                at(
                    key,
                    f"overlaps {other.id!r} ({where}): for any one sensor only one override "
                    f"of {variant.family!r} may be the most specific",
                )
                return False
        return True


def _overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _article(kind: ConditionKind) -> str:
    return f"an {kind}" if kind.value[0] in "aeiou" else f"a {kind}"
