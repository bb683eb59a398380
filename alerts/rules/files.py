"""Rule files: YAML that adds rules and overrides the defaults, validated all at once.

    rules:                                   # new rules, ids of your own
      - id: yinhang_pressure_drop
        type: water_main_pressure
        metric: pressure
        subdistricts: [yinhang]              # optional; sensors: [...] too
        rate_of_change: {below: {yellow: -0.03, orange: -0.05}}
        window: 5m
        hold: 2m
      - id: parking_nearly_full
        type: parking_lot_counter
        metric: occupancy
        subject: subdistrict                 # or district, or city: a city vital sign
        aggregate: avg                       # avg | min | max | sum | share_offline
        above: {orange: 95, hysteresis: 3}
        hold: 10m
    overrides:                               # change a rule by id; narrowing makes a variant
      - rule: default:water_main_pressure:pressure:below
        subdistricts: [yinhang]
        below: {blue: 0.25, yellow: 0.23, orange: 0.20, red: 0.15}

Conditions: exactly one of above, below, outside ({above, below}), rate_of_change ({above and/or
below}, per minute), absence ({intervals, grade}), flatline ({unchanged_for, grade}), state_in
(labels of an enumerated state: `[fault]`, or `{labels: [fault], grade: orange}`; see states.py).
Threshold rules and overrides may add `schedules` (other levels by night or at weekends; see
schedules.py); an override without `schedules` keeps the rule's, following its new levels. Threshold
blocks take blue/yellow/orange/red, optional recovery ({grade: level}) and hysteresis (a margin).
`over: avg|min|max` with `window` compares a window aggregate instead of the latest value.
`keep_firing_for` defaults to `hold`. An override's above/below block replaces that direction's
thresholds entirely; keys it leaves out keep the overridden rule's values. Every problem names
its file and dotted key (`rules[0].below.red`) and all are raised together in one RuleError.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from alerts.errors import RuleError
from alerts.file_problems import Report, did_you_mean
from alerts.rules.checks import Bounds, Checker, bounds_for
from alerts.rules.rule import Condition, ConditionKind, Direction, Rule, Scope, Timing
from alerts.rules.rule_set import RuleSet
from alerts.rules.schedules import build_schedules
from alerts.rules.specs import OverrideSpec, RuleFileSpec, RuleSpec
from alerts.rules.states import state_in_condition
from schemas.errors import Problem
from schemas.geography import Geography, load_geography
from schemas.registry import Registry

RULES_DIR = Path(__file__).parent  # the shipped rule files sit next to this module
YAML_SUFFIXES = (".yaml", ".yml")
RESERVED_PREFIX = "default:"
CONDITION_KEYS = tuple(k.value for k in ConditionKind)


def load_rule_files(
    registry: Registry, directory: Path, geography: Geography | None = None
) -> RuleSet:
    """Defaults from `registry` merged with every *.yaml below `directory`, subdistrict codes
    checked against `geography` (the configured one; tests and benchmarks may leave it out for
    the shipped default); raises RuleError listing every problem in every file."""
    if not directory.is_dir():
        raise RuleError([Problem(str(directory), "", "not a directory of rule files")])
    loader = _Loader(registry, geography or load_geography())
    files = sorted(p for p in directory.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    parsed: list[tuple[str, RuleFileSpec]] = []
    for path in files:
        source = _display(path, directory)
        spec = loader.parse(path, source)
        if spec is not None:
            parsed.append((source, spec))
    for source, spec in parsed:
        for index, rule_spec in enumerate(spec.rules):
            loader.add_rule(rule_spec, source, f"rules[{index}]")
    overrides = [
        (override, source, f"overrides[{index}]")
        for source, spec in parsed
        for index, override in enumerate(spec.overrides)
    ]
    # Whole-type overrides first, so narrowed variants build on the overridden rule whatever
    # the file order.
    for narrowing in (False, True):
        for override, source, key in overrides:
            if _narrows(override) is narrowing:
                loader.add_override(override, source, key)
    if loader.problems:
        raise RuleError(loader.problems)
    return RuleSet.build(registry, loader.rules.values())


def reload(
    previous: RuleSet, directory: Path, geography: Geography | None = None
) -> RuleSet | list[Problem]:
    """The new rule set, or every problem found; on problems the caller keeps `previous`."""
    try:
        return load_rule_files(previous.registry, directory, geography)
    except RuleError as error:
        return error.problems


def _narrows(override: OverrideSpec) -> bool:
    return override.subdistricts is not None or override.sensors is not None


class _Loader(Checker):
    def parse(self, path: Path, source: str) -> RuleFileSpec | None:
        file = self.file(source)
        text = file.read(path)
        if text is None:
            return None
        # An empty file adds nothing, which is fine.
        document = file.mapping(text, "with 'rules' and/or 'overrides'", empty=True)
        return None if document is None else file.validate(RuleFileSpec, document)

    def add_rule(self, spec: RuleSpec, source: str, key: str) -> None:
        at = self.at(source, key)
        mark = len(self.problems)
        if spec.id.startswith(RESERVED_PREFIX):
            at(
                "id",
                f"ids starting with {RESERVED_PREFIX!r} belong to the defaults; change "
                "those with an entry under 'overrides'",
            )
        sensor_type = self.registry.get(spec.type)
        if sensor_type is None:
            at(
                "type",
                f"unknown sensor type {spec.type!r}{did_you_mean(spec.type, self.registry.types)}",
            )
            return
        kinds = [k for k in CONDITION_KEYS if getattr(spec, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            at("", f"declare exactly one condition ({', '.join(CONDITION_KEYS)}); found {found}")
            return
        kind = ConditionKind(kinds[0])
        metric = self.check_subject(at, spec, kind, sensor_type)
        self.check_window(at, spec, kind)
        scope = Scope(
            spec.type,
            self.check_subdistricts(at, spec.subdistricts, None),
            self.check_sensors(at, spec.sensors, None),
        )
        bounds = bounds_for(kind, spec.aggregate, metric)
        condition = self._condition(at, spec, kind, bounds, sensor_type.reporting_interval)
        if condition is not None and kind is ConditionKind.STATE_IN:
            assert spec.state_in is not None
            condition = state_in_condition(at, spec.state_in, metric, f"{spec.type}.{spec.metric}")
        if condition is None or len(self.problems) > mark:
            return
        schedules = build_schedules(
            at,
            spec.schedules,
            condition,
            lambda key, block, d: self.levels(at, key, block, bounds, d),
            lambda key, up, down: self.check_overlap(at, key, up, down),
        )
        if len(self.problems) > mark:
            return
        hold = timedelta(seconds=spec.hold or 0)
        keep = hold if spec.keep_firing_for is None else timedelta(seconds=spec.keep_firing_for)
        rule = Rule(
            id=spec.id,
            scope=scope,
            metric=spec.metric,
            condition=condition,
            timing=Timing(hold=hold, keep_firing_for=keep),
            domain=sensor_type.domain,
            subject_kind=spec.subject,
            aggregate=spec.aggregate,
            disabled=spec.disabled,
            description=spec.description,
            source=source,
            schedules=schedules,
        )
        self.register(rule, at, "id", f"{source} {key}")

    def _condition(
        self, at: Report, spec: RuleSpec, kind: ConditionKind, bounds: Bounds, interval: float
    ) -> Condition | None:
        if spec.absence is not None:
            silence = timedelta(seconds=interval * spec.absence.intervals)
            grade = spec.absence.grade
            return Condition(kind, intervals=spec.absence.intervals, silence=silence, grade=grade)
        if spec.flatline is not None:
            flat = timedelta(seconds=spec.flatline.unchanged_for)
            return Condition(kind, unchanged_for=flat, grade=spec.flatline.grade)
        if kind is ConditionKind.STATE_IN:
            return Condition(kind)  # the caller checks the labels against the metric's states
        if kind in (ConditionKind.ABOVE, ConditionKind.BELOW):
            prefix, above_spec, below_spec = "", spec.above, spec.below
        else:
            block = spec.outside if kind is ConditionKind.OUTSIDE else spec.rate_of_change
            assert block is not None  # the caller found exactly this key
            prefix, above_spec, below_spec = f"{kind}.", block.above, block.below
            if above_spec is None and below_spec is None:
                at(kind.value, "declare 'above' and/or 'below' thresholds")
                return None
        above = self.levels(at, f"{prefix}above", above_spec, bounds, Direction.ABOVE)
        below = self.levels(at, f"{prefix}below", below_spec, bounds, Direction.BELOW)
        self.check_overlap(at, prefix.rstrip("."), above, below)
        window = None if spec.window is None else timedelta(seconds=spec.window)
        return Condition(kind, above=above, below=below, over=spec.over, window=window)

    def add_override(self, spec: OverrideSpec, source: str, key: str) -> None:
        at = self.at(source, key)
        where = f"{source} {key}"
        base = self.rules.get(spec.rule)
        if base is None:
            at("rule", f"no rule {spec.rule!r} to override{did_you_mean(spec.rule, self.rules)}")
            return
        if base.overrides is not None:
            at("rule", f"{spec.rule!r} is itself an override; override {base.overrides!r}")
            return
        mark = len(self.problems)
        narrows = _narrows(spec)
        if not narrows and spec.id is not None:
            at("id", "only an override that narrows the scope (subdistricts, sensors) gets an id")
        patched = self.patch(at, base, spec, source)
        if patched is None or len(self.problems) > mark:
            return
        if not narrows:
            if base.id in self.overridden:
                at(
                    "rule",
                    f"{base.id!r} is already overridden in {self.overridden[base.id]}; "
                    "merge the two",
                )
                return
            self.overridden[base.id] = where
            self.rules[base.id] = patched
            return
        scope = Scope(
            base.scope.type_name,
            self.check_subdistricts(at, spec.subdistricts, base),
            self.check_sensors(at, spec.sensors, base),
        )
        if len(self.problems) > mark:
            return
        variant = replace(
            patched, id=spec.id or _variant_id(base.id, scope), scope=scope, overrides=base.id
        )
        if self.check_variant_overlap(at, variant) and self.register(
            variant, at, "id" if spec.id else "rule", where
        ):
            self.variants.setdefault(variant.family, []).append((variant, where))


def _variant_id(base_id: str, scope: Scope) -> str:
    parts = []
    if scope.subdistricts is not None:
        parts.append("+".join(sorted(scope.subdistricts)))
    if scope.sensors is not None:
        parts.append("sensor:" + "+".join(sorted(scope.sensors)))
    return f"{base_id}@{'/'.join(parts)}"


def _display(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)
