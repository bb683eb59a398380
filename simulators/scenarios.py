"""Incident scenarios: replayable drills from YAML that double as alert-engine tests.

One file per scenario in `simulators/scenarios/`::

    name: water_main_burst                       # snake_case, unique across the folder
    display_name: {zh: 殷行街道供水干管爆管, en: Water-main burst in Yinhang}
    description: what happens physically and what the duty officer should see
    duration: 40m                                # how long the incident lasts
    time_of_day: "10:00"                         # optional, quoted: Shanghai time it is written
                                                 #   for (daily profiles move the baselines)
    effects:                                     # applied in this order (see effect_for)
      - select: {type: water_main_pressure, subdistricts: [yinhang], share: 0.5,
                 near: {lat: 31.30, lon: 121.517, radius_m: 1500}}   # all optional but type
        metric: pressure
        multiply: 0.6                            # or add: x, or set: x (exactly one)
        start: 0m                                # all four optional, offsets from the start:
        end: 40m                                 #   full strength from start + ramp_in to end
        ramp_in: 2m                              #   (default end: the duration), then a
        ramp_out: 10m                            #   linear return over ramp_out
    expected_alerts:                             # at least `grade`, no later than `within`
      - {type: water_main_pressure, metric: pressure, subdistrict: yinhang, grade: yellow,
         within: 10m}                            # subdistrict 'district': anywhere

Places are codes of the configured geography (schemas/geography.py, passed in): `subdistricts`
name subdistricts, `near` must lie inside a configured district, and an expected alert names the
subdistrict it fires in or the keyword `district`, meaning anywhere in the configured geography
(any subdistrict of any district, or a district-wide vital sign). The keyword stays one word for
every deployment, so a drill written for a city platform holding several districts reads the
same; a drill is written for the places it names, and loading it against a geography without
them names each unknown code (with the closest configured one).

`share` picks a fraction of the matching sensors from a hash of the scenario name and the sensor
id: stable across runs, and the same sensors for every effect of the scenario, so effects with
equal shares hit the same devices (one building's detectors alarm *and* heat up). A state metric
takes only `set: 0` or `set: 1`; its ramps stagger the moment each sensor switches instead of
producing fractions (car bays fill one by one). Counters are not changed: a cumulative total has
no meaningful "×2"; change the rate metric beside it (flow, not volume).

Loading reports every problem of every file at once, as `Problem(file, dotted key, message)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from schemas.durations import parse_duration
from schemas.errors import Problem, SchemaError
from schemas.geography import Geography, load_geography
from schemas.model_problems import validate_items, validate_model
from schemas.registry import Registry
from schemas.sensor_type import BilingualName, MetricKind
from schemas.yaml_loader import load_yaml_mapping
from simulators.model import Effect, SimSensor
from simulators.scenario_model import (
    DISTRICT,
    EffectSpec,
    ExpectedAlert,
    ExpectedAlertSpec,
    Finding,
    Near,
    ScenarioDocument,
    ScenarioEffect,
    Selection,
    check_alert,
    check_effect,
    draw,
    scenario_end_s,
)

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
YAML_SUFFIXES = (".yaml", ".yml")
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # fixed UTC+8, no daylight saving
HINT = "the format is in simulators/scenarios.py"


class ScenarioError(SchemaError):
    """One or more scenario files are invalid (carries every Problem)."""


@dataclass(frozen=True, eq=False)  # identity equality: a scenario carries a selection cache
class Scenario:
    name: str
    display_name: BilingualName
    description: str
    duration_s: float
    effects: tuple[ScenarioEffect, ...]
    expected_alerts: tuple[ExpectedAlert, ...] = ()
    time_of_day: time | None = None  # Shanghai time the drill is written for, if it matters
    source: str = ""
    # (type, metric) -> indices of the effects on it, and type -> indices: a sensor no effect
    # targets costs one dict lookup per metric and report.
    _by_metric: dict[tuple[str, str], tuple[int, ...]] = field(init=False, repr=False)
    _by_type: dict[str, tuple[int, ...]] = field(init=False, repr=False)
    _end_s: float = field(init=False, repr=False)  # asked on every report: computed once
    # sensor id -> (indices of the effects selecting it, its stagger draw); ids are unique in a
    # fleet (they are the MQTT topic ids), and selection never changes for a sensor.
    _memo: dict[str, tuple[frozenset[int], float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_metric: dict[tuple[str, str], list[int]] = {}
        by_type: dict[str, list[int]] = {}
        for index, effect in enumerate(self.effects):
            by_metric.setdefault((effect.selection.type, effect.metric), []).append(index)
            by_type.setdefault(effect.selection.type, []).append(index)
        object.__setattr__(self, "_by_metric", {k: tuple(v) for k, v in by_metric.items()})
        object.__setattr__(self, "_by_type", {k: tuple(v) for k, v in by_type.items()})
        object.__setattr__(self, "_memo", {})
        over = max((effect.over_s for effect in self.effects), default=0.0)
        object.__setattr__(self, "_end_s", max(self.duration_s, over))

    @property
    def end_s(self) -> float:
        """When nothing applies any more: the duration plus the longest ramp out (effects that
        end early may finish sooner, never later)."""
        return self._end_s

    def next_start(self, after: datetime) -> datetime:
        """The first moment at or after `after` (with a UTC offset) at the scenario's time of day
        in Shanghai; `after` itself when the scenario names none."""
        if self.time_of_day is None:
            return after
        local = after.astimezone(SHANGHAI)
        start = datetime.combine(local.date(), self.time_of_day, SHANGHAI)
        return start if start >= local else start + timedelta(days=1)

    def effect_for(self, sensor: SimSensor, metric: str, elapsed_s: float) -> Effect | None:
        """The combined effect on `metric` of `sensor`, `elapsed_s` after the start; None when
        nothing changes the value (not selected, another metric, before or after the window)."""
        indices = self._by_metric.get((sensor.type_name, metric))
        if indices is None or not 0 <= elapsed_s < self._end_s:
            return None
        chosen, stagger = self._chosen(sensor)
        active: list[tuple[ScenarioEffect, float]] = []
        for index in indices:
            if index not in chosen:
                continue
            effect = self.effects[index]
            weight = effect.weight_at(elapsed_s)
            if effect.stepped:
                # A state is 0 or 1, never 0.4: the ramp instead sets the share of sensors that
                # have switched, each at the moment the ramp passes its own draw.
                weight = 1.0 if weight > stagger else 0.0
            if weight > 0:
                active.append((effect, weight))
        return _combine(active)

    def affected(self, sensors: Iterable[SimSensor]) -> list[SimSensor]:
        """The sensors at least one effect selects, in the given order."""
        return [s for s in sensors if s.type_name in self._by_type and self._chosen(s)[0]]

    def uncovered_alerts(self, sensors: Iterable[SimSensor]) -> list[ExpectedAlert]:
        """Expected alerts no sensor of `sensors` could raise: no affected sensor of that type
        and metric in that subdistrict. A fleet simulator should warn about these."""
        covered: set[tuple[str, str, str]] = set()
        for sensor in self.affected(sensors):
            for index in self._chosen(sensor)[0]:
                metric = self.effects[index].metric
                covered.add((sensor.type_name, metric, sensor.subdistrict))
                covered.add((sensor.type_name, metric, DISTRICT))
        return [a for a in self.expected_alerts if (a.type, a.metric, a.subdistrict) not in covered]

    def _chosen(self, sensor: SimSensor) -> tuple[frozenset[int], float]:
        found = self._memo.get(sensor.id)
        if found is None:
            share_draw = draw(self.name, "select", sensor.id)
            chosen = frozenset(
                index
                for index in self._by_type.get(sensor.type_name, ())
                if self.effects[index].selection.matches(sensor, share_draw)
            )
            # A second, independent draw: reusing the share draw would make the sensors picked
            # first by `share` also the first to switch, tying two unrelated choices together.
            found = (chosen, draw(self.name, "stagger", sensor.id))
            self._memo[sensor.id] = found
        return found


def _combine(active: list[tuple[ScenarioEffect, float]]) -> Effect | None:
    if not active:
        return None
    # A full-strength `set` overrides everything before it; keep its plain form when it is last.
    for position in range(len(active) - 1, 0, -1):
        effect, weight = active[position]
        if effect.set is not None and weight >= 1.0:
            active = active[position:]
            break
    if len(active) == 1:
        effect, weight = active[0]
        return Effect(multiply=effect.multiply, add=effect.add, set=effect.set, weight=weight)
    # Each weighted effect is v -> v * m + a, so their composition is too. Report it with the
    # strongest weight (how far into the incident we are) and solve Effect.apply for m and a.
    m, a = 1.0, 0.0
    for effect, weight in active:
        em, ea = effect.affine(weight)
        m, a = m * em, a * em + ea
    strongest = max(weight for _, weight in active)
    return Effect(multiply=1.0 + (m - 1.0) / strongest, add=a / strongest, weight=strongest)


# --- loading ----------------------------------------------------------------------------------


def parse_scenario(
    text: str, source: str, registry: Registry, geography: Geography | None = None
) -> Scenario:
    """One scenario from YAML text; raises ScenarioError naming `source` and each bad key.
    Places are checked against `geography` (left out: the shipped default)."""
    places = load_geography() if geography is None else geography
    scenario, problems = _parse(text, source, registry, places)
    if scenario is None or problems:
        raise ScenarioError(problems)
    return scenario


def load_scenarios(
    registry: Registry,
    directory: Path = SCENARIOS_DIR,
    geography: Geography | None = None,
) -> dict[str, Scenario]:
    """Every *.yaml / *.yml below `directory` by name, places checked against `geography` (left
    out: the shipped default); raises ScenarioError listing all problems. An empty folder gives
    no scenarios: unlike sensor types, drills are optional."""
    places = load_geography() if geography is None else geography
    if not directory.is_dir():
        raise ScenarioError([Problem(str(directory), "", "not a directory of scenario files")])
    files = sorted(p for p in directory.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    problems: list[Problem] = []
    scenarios: dict[str, Scenario] = {}
    for path in files:
        source = _display_path(path, directory)
        scenario, found = _parse(path.read_text(encoding="utf-8"), source, registry, places)
        problems.extend(found)
        if scenario is None:
            continue
        if scenario.name in scenarios:
            where = scenarios[scenario.name].source
            message = f"duplicate scenario {scenario.name!r}: already defined in {where}"
            problems.append(Problem(source, "name", message))
            continue
        scenarios[scenario.name] = scenario
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _parse(
    text: str, source: str, registry: Registry, geography: Geography
) -> tuple[Scenario | None, list[Problem]]:
    expected = "name, display_name, description, duration, effects, ..."
    document, problems = load_yaml_mapping(text, source, expected)
    if document is None:
        return None, problems
    # The document sees effects and alerts as plain mappings; validate_items checks their inside.
    header = validate_model(
        ScenarioDocument, document, source=source, problems=problems, format_hint=HINT, depth=2
    )
    duration_s = header.duration if header else _duration_or_none(document.get("duration"))
    effects = validate_items(
        document, "effects", EffectSpec, source=source, problems=problems, format_hint=HINT
    )
    alerts = validate_items(
        document,
        "expected_alerts",
        ExpectedAlertSpec,
        source=source,
        problems=problems,
        format_hint=HINT,
    )
    findings: list[Finding] = []
    for index, spec in enumerate(effects):
        if spec is not None:
            findings.extend(
                check_effect(f"effects[{index}]", spec, registry, geography, duration_s)
            )
    # Cross-checks of the alerts against the effects only when the effects are all sound: a
    # misspelt metric should give one problem, not a second "nothing drives this alert".
    sound = [e for e in effects if e is not None]
    if findings or duration_s is None or not sound or len(sound) < len(effects):
        context = None
    else:
        context = (sound, scenario_end_s(sound, duration_s))
    for index, alert in enumerate(alerts):
        if alert is not None:
            key = f"expected_alerts[{index}]"
            findings.extend(check_alert(key, alert, registry, geography, context))
    problems.extend(Problem(source, key, message) for key, message in findings)
    if header is None or problems:
        return None, problems
    return _build(header, sound, [a for a in alerts if a is not None], registry, source), []


def _build(
    header: ScenarioDocument,
    effects: list[EffectSpec],
    alerts: list[ExpectedAlertSpec],
    registry: Registry,
    source: str,
) -> Scenario:
    compiled = []
    for spec in effects:
        select, metric = spec.select, registry.metric(spec.select.type, spec.metric)
        assert metric is not None  # checked before building
        near = select.near
        selection = Selection(
            type=select.type,
            subdistricts=None if select.subdistricts is None else frozenset(select.subdistricts),
            share=select.share,
            near=None if near is None else Near(near.lat, near.lon, near.radius_m),
        )
        compiled.append(
            ScenarioEffect(
                selection=selection,
                metric=spec.metric,
                multiply=1.0 if spec.multiply is None else spec.multiply,
                add=0.0 if spec.add is None else spec.add,
                set=spec.set,
                start_s=spec.start,
                end_s=header.duration if spec.end is None else spec.end,
                ramp_in_s=spec.ramp_in,
                ramp_out_s=spec.ramp_out,
                stepped=metric.kind is MetricKind.STATE,
            )
        )
    expected = tuple(
        ExpectedAlert(a.type, a.metric, a.subdistrict, a.grade, a.within) for a in alerts
    )
    return Scenario(
        name=header.name,
        display_name=header.display_name,
        description=header.description,
        duration_s=header.duration,
        effects=tuple(compiled),
        expected_alerts=expected,
        time_of_day=header.time_of_day,
        source=source,
    )


# --- helpers ----------------------------------------------------------------------------------


def _duration_or_none(value: object) -> float | None:
    try:
        return parse_duration(value)
    except ValueError:
        return None


def _display_path(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)
