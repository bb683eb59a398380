"""Which sensors each rule watches, worked out once per (rule set, catalogue) and not per tick.

A sensor rule applies to a sensor when it is the most specific enabled member of its family whose
scope matches the sensor (`RuleSet.rules_for`). Sensors of one type in one subdistrict share
their rules unless some rule names single sensors, so the lookup is done per (type, subdistrict)
and only sensors named by some rule are looked up one by one: 100,000 sensors bind in a blink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from alerts.engine.city import City
from alerts.engine.zones import ZoneOf
from alerts.model import Subject
from alerts.rules.defaults import DEFAULT_ABSENCE_INTERVALS
from alerts.rules.rule import ConditionKind, Rule, Source, SubjectKind
from alerts.rules.rule_set import RuleSet

__all__ = ["Binding", "WindowKey", "bind_rules"]

# A latest value older than this many reporting intervals is no longer "the current value"
# (Prometheus' staleness): the sensor is silent, which is the absence rule's business.
STALE_INTERVALS = DEFAULT_ABSENCE_INTERVALS


@dataclass(frozen=True)
class WindowKey:
    """One window query serves every rule over the same metric and window."""

    metric_id: int
    window_s: float


@dataclass
class Binding:
    rule: Rule
    sensors: npt.NDArray[np.int64]  # sensor indexes in the City, ascending
    series: npt.NDArray[np.int64] | None  # aligned series indexes (rules on a metric)
    metric_id: int | None
    stale_s: float  # values older than this count as no data
    window: WindowKey | None = None
    # sensor index -> position in `sensors` (-1 when not bound): finds an active alert's row
    local: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    # Vital-sign rules: the places evaluated, (subject kind, code): ("city", "<city code>"),
    # ("district", "<district code>") for each configured district, ("subdistrict", "<code>").
    places: tuple[tuple[str, str], ...] = ()
    # Rules with schedules: the time zones of the bound sensors and each one's zone (an index
    # into them), asked of `zone_of` once per subdistrict on the first tick that needs them.
    _zones: tuple[tuple[tzinfo, ...], npt.NDArray[np.int64]] | None = field(
        default=None, repr=False
    )

    def zones_by_sensor(
        self, city: City, zone_of: ZoneOf
    ) -> tuple[tuple[tzinfo, ...], npt.NDArray[np.int64]]:
        """(distinct zones, zone index per bound sensor); cached: a binding lives as long as
        its rule set and catalogue, and the engine's `zone_of` does not change."""
        if self._zones is None:
            places = city.sensor_subdistrict[self.sensors]
            zone_index = np.zeros(len(self.sensors), np.int64)
            zones: list[tzinfo] = []
            codes, first = np.unique(places, return_index=True)
            for code, pos in zip(codes.tolist(), first.tolist(), strict=True):
                sensor = city.sensors[int(self.sensors[pos])]
                subject = Subject(
                    SubjectKind.SENSOR.value,
                    sensor.external_id,
                    self.rule.domain,
                    sensor.subdistrict,
                )
                zone = zone_of(subject)
                if zone not in zones:
                    zones.append(zone)
                zone_index[places == code] = zones.index(zone)
            self._zones = (tuple(zones), zone_index)
        return self._zones

    @property
    def vital(self) -> bool:
        return self.rule.subject_kind is not SubjectKind.SENSOR


def _window_of(rule: Rule, metric_id: int | None) -> WindowKey | None:
    cond = rule.condition
    if metric_id is None or cond.window is None:
        return None
    if cond.kind is ConditionKind.RATE_OF_CHANGE or cond.over is not Source.LATEST:
        return WindowKey(metric_id, cond.window / timedelta(seconds=1))
    return None


def _named_sensors(rules: RuleSet) -> set[str]:
    return {s for rule in rules for s in (rule.scope.sensors or ())}


def bind_rules(rules: RuleSet, city: City) -> list[Binding]:
    """A binding per enabled rule that covers at least one known sensor (vital-sign rules bind
    to every sensor of their type; the evaluator folds them by subdistrict)."""
    members: dict[str, list[int]] = {}
    named = _named_sensors(rules)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, sensor in enumerate(city.sensors):
        if sensor.external_id in named:
            for rule in rules.rules_for(sensor.type_name, sensor.subdistrict, sensor.external_id):
                members.setdefault(rule.id, []).append(index)
        else:
            groups.setdefault((sensor.type_name, sensor.subdistrict), []).append(index)
    for (type_name, subdistrict), indexes in groups.items():
        for rule in rules.rules_for(type_name, subdistrict, ""):
            members.setdefault(rule.id, []).extend(indexes)
    bindings = [
        _binding(rules.rules[rule_id], np.array(sorted(indexes), np.int64), city)
        for rule_id, indexes in members.items()
    ]
    bindings.extend(_vital_bindings(rules, city))
    return [b for b in bindings if len(b.sensors)]


def _vital_places(rules: RuleSet, city: City) -> dict[str, tuple[Rule, list[tuple[str, str]]]]:
    """Each vital-sign rule with the places it is evaluated for: the city (a city rule), each
    configured district (a district rule) or the subdistricts where it is the applicable member
    of its family."""
    places: dict[str, tuple[Rule, list[tuple[str, str]]]] = {}
    geography = city.geography
    for rule in rules.vital_sign_rules_for(SubjectKind.CITY):
        places[rule.id] = (rule, [(SubjectKind.CITY.value, geography.city.code)])
    district = SubjectKind.DISTRICT.value
    for rule in rules.vital_sign_rules_for(SubjectKind.DISTRICT):
        places[rule.id] = (rule, [(district, code) for code in geography.districts])
    for sub in geography:
        for rule in rules.vital_sign_rules_for(SubjectKind.SUBDISTRICT, sub.code):
            entry = places.setdefault(rule.id, (rule, []))
            entry[1].append((SubjectKind.SUBDISTRICT.value, sub.code))
    return places


def _vital_bindings(rules: RuleSet, city: City) -> list[Binding]:
    out = []
    for rule, codes in _vital_places(rules, city).values():
        sensors = city.sensors_of_type.get(rule.scope.type_name)
        if sensors is not None:
            binding = _binding(rule, sensors, city)
            binding.places = tuple(codes)
            out.append(binding)
    return out


def _binding(rule: Rule, sensors: npt.NDArray[np.int64], city: City) -> Binding:
    type_name = rule.scope.type_name
    metric_id = None if rule.metric is None else city.metric_ids.get((type_name, rule.metric))
    series = None if metric_id is None else city.series_for(sensors, metric_id)
    local = np.full(len(city), -1, np.int32)
    local[sensors] = np.arange(len(sensors), dtype=np.int32)
    return Binding(
        rule=rule,
        sensors=sensors,
        series=series,
        metric_id=metric_id,
        stale_s=STALE_INTERVALS * city.interval_s.get(type_name, 60.0),
        window=_window_of(rule, metric_id),
        local=local,
    )
