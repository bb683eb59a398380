"""One evaluation of every bound rule at `now`: observations from the City, steps of the state
machine, and the list of alerts that changed.

Per rule, numpy finds the subjects worth a Python step: those whose value breaches the rule's
mildest threshold now, plus those that already have an alert (pending timers run, firing alerts
may ease). Everything else is quiet and stays quiet, which the state machine would conclude too,
only 100,000 times slower. Vital-sign rules fold their sensors per subdistrict and district-wide
first, then step 13 subjects at most.

Rules with schedules (other levels by night, at weekends) compare with the condition in force at
`now` in each subject's time zone (`zones.py`): worked out once per zone per tick, so the numpy
pass stays one comparison per sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from alerts.engine.bindings import Binding, WindowKey
from alerts.engine.city import NEVER, City
from alerts.engine.state import NO_DATA, Observation, new_alert, step
from alerts.engine.zones import ZoneOf, one_zone
from alerts.model import Alert, Subject, Transition
from alerts.rules.rule import Aggregate, Condition, ConditionKind, Rule, Source, SubjectKind
from storage.recent import WindowStats

__all__ = ["Change", "Evaluation", "evaluate"]

_SECOND = timedelta(seconds=1)
SENSOR = SubjectKind.SENSOR.value
_ONE_ZONE = one_zone()  # callers that leave it out: Shanghai (the engine passes by_district)
ActiveAlerts = MutableMapping[str, dict[str, Alert]]  # rule id -> subject id -> alert


@dataclass(frozen=True)
class Change:
    before: Alert | None  # None: the subject had no alert in memory
    after: Alert
    transitions: tuple[Transition, ...]


@dataclass
class Evaluation:
    changes: list[Change]
    stepped: int  # Python steps taken (the rest was settled by numpy)


def evaluate(
    bindings: Iterable[Binding],
    city: City,
    active: ActiveAlerts,
    windows: Mapping[WindowKey, WindowStats],
    now: datetime,
    zone_of: ZoneOf = _ONE_ZONE,
) -> Evaluation:
    """Step every rule; `active` is read, not modified (the caller applies the changes after
    they are committed, so a failed commit leaves memory as the database is). `zone_of`: the
    time zone schedules are read in, per subject."""
    now_s = now.timestamp()
    result = Evaluation(changes=[], stepped=0)
    for binding in bindings:
        alerts = active.get(binding.rule.id, {})
        if binding.vital:
            _vital(binding, city, alerts, windows, now, now_s, result, zone_of)
        else:
            _sensors(binding, city, alerts, windows, now, now_s, result, zone_of)
    return result


def _in_force(
    binding: Binding, city: City, zone_of: ZoneOf, now: datetime
) -> tuple[tuple[Condition, ...], npt.NDArray[np.int64] | None]:
    """The conditions in force now, and which one applies per bound sensor (None: the first
    for all, the usual case: no schedules, or one zone)."""
    rule = binding.rule
    if not rule.schedules:
        return (rule.condition,), None
    zones, zone_index = binding.zones_by_sensor(city, zone_of)
    conditions = tuple(rule.condition_at(now.astimezone(zone)) for zone in zones)
    if len(set(map(id, conditions))) == 1:
        return conditions[:1], None
    return conditions, zone_index


def _values(
    binding: Binding, city: City, windows: Mapping[WindowKey, WindowStats], now_s: float
) -> npt.NDArray[np.float64]:
    """The compared value per bound sensor, NaN where there is none (stale or no window data)."""
    rule = binding.rule
    if binding.window is not None:
        stats = windows.get(binding.window)
        out = np.full(len(binding.sensors), np.nan)
        if stats is None or len(stats.sensor) == 0:
            return out
        index = city.sensor_index(stats.sensor)
        known = index >= 0
        pos = binding.local[index[known]]
        bound = pos >= 0
        column = _window_column(rule, stats)[known][bound]
        out[pos[bound]] = column
        return out
    assert binding.series is not None
    values = city.latest_value[binding.series].copy()
    values[city.latest_ts[binding.series] < now_s - binding.stale_s] = np.nan
    return values


def _window_column(rule: Rule, stats: WindowStats) -> npt.NDArray[np.float64]:
    if rule.condition.kind is ConditionKind.RATE_OF_CHANGE:
        return stats.slope_per_min
    return {Source.AVG: stats.avg, Source.MIN: stats.min, Source.MAX: stats.max}[
        rule.condition.over
    ]


def _sensors(
    binding: Binding,
    city: City,
    alerts: dict[str, Alert],
    windows: Mapping[WindowKey, WindowStats],
    now: datetime,
    now_s: float,
    result: Evaluation,
    zone_of: ZoneOf,
) -> None:
    rule = binding.rule
    cond = rule.condition
    kind = cond.kind
    conditions, which = _in_force(binding, city, zone_of, now)
    seen: npt.NDArray[np.float64] | None = None
    unchanged: npt.NDArray[np.float64] | None = None
    values: npt.NDArray[np.float64] | None = None
    if kind is ConditionKind.ABSENCE:
        assert cond.silence is not None
        seen = city.last_seen[binding.sensors]
        breach = (seen > NEVER) & (now_s - seen >= cond.silence / _SECOND)
    elif kind is ConditionKind.FLATLINE:
        assert cond.unchanged_for is not None
        assert binding.series is not None
        values = _values(binding, city, windows, now_s)
        unchanged = now_s - city.changed_at[binding.series]
        breach = ~np.isnan(values) & (unchanged >= cond.unchanged_for / _SECOND)
    elif kind is ConditionKind.STATE_IN:
        assert cond.states is not None
        values = _values(binding, city, windows, now_s)
        breach = np.isin(values, np.fromiter(cond.states, np.float64))
    else:
        values = _values(binding, city, windows, now_s)
        if which is None:
            ceiling: float | npt.NDArray[np.float64] = conditions[0].ceiling
            floor: float | npt.NDArray[np.float64] = conditions[0].floor
        else:
            ceiling = np.array([c.ceiling for c in conditions])[which]
            floor = np.array([c.floor for c in conditions])[which]
        with np.errstate(invalid="ignore"):
            breach = (values >= ceiling) | (values <= floor)
    candidates = set(np.flatnonzero(breach).tolist())
    for subject_id in alerts:
        index = city.index_of.get(subject_id)
        if index is not None and binding.local[index] >= 0:
            candidates.add(int(binding.local[index]))
    for pos in candidates:
        sensor = city.sensors[int(binding.sensors[pos])]
        if kind is ConditionKind.ABSENCE:
            assert seen is not None
            observation = Observation(last_seen=datetime.fromtimestamp(seen[pos], UTC))
        else:
            assert values is not None
            value = float(values[pos])
            if np.isnan(value):
                observation = NO_DATA
            elif kind is ConditionKind.FLATLINE:
                assert unchanged is not None
                flat = timedelta(seconds=float(unchanged[pos]))
                observation = Observation(value=value, unchanged_for=flat)
            elif kind is ConditionKind.RATE_OF_CHANGE:
                observation = Observation(rate_per_min=value)
            else:
                observation = Observation(value=value)
        subject = Subject(SENSOR, sensor.external_id, rule.domain, sensor.subdistrict)
        in_force = conditions[0] if which is None else conditions[int(which[pos])]
        _step_subject(rule, alerts, subject, observation, now, result, in_force)


def _vital(
    binding: Binding,
    city: City,
    alerts: dict[str, Alert],
    windows: Mapping[WindowKey, WindowStats],
    now: datetime,
    now_s: float,
    result: Evaluation,
    zone_of: ZoneOf,
) -> None:
    rule = binding.rule
    subdistricts = city.sensor_subdistrict[binding.sensors]
    districts = city.sensor_district[binding.sensors]
    if rule.aggregate is Aggregate.SHARE_OFFLINE:
        seen = city.last_seen[binding.sensors]
        known = seen > NEVER
        offline = known & (now_s - seen >= binding.stale_s)
        values = np.where(known, offline.astype(np.float64) * 100.0, np.nan)
    else:
        values = _values(binding, city, windows, now_s)
    for kind, code in binding.places:
        if kind == SubjectKind.CITY.value:
            in_place = values[districts >= 0]  # sensors of every configured district
            subject = Subject(kind, code, rule.domain, None)
        elif kind == SubjectKind.DISTRICT.value:
            in_place = values[districts == city.district_index[code]]
            subject = Subject(kind, code, rule.domain, None)
        else:
            in_place = values[subdistricts == city.subdistrict_index[code]]
            subject = Subject(kind, code, rule.domain, code)
        folded = _fold(rule.aggregate, in_place)
        observation = NO_DATA if folded is None else Observation(value=folded)
        in_force = rule.condition
        if rule.schedules:
            in_force = rule.condition_at(now.astimezone(zone_of(subject)))
        _step_subject(rule, alerts, subject, observation, now, result, in_force)


def _step_subject(
    rule: Rule,
    alerts: Mapping[str, Alert],
    subject: Subject,
    observation: Observation,
    now: datetime,
    result: Evaluation,
    condition: Condition,
) -> None:
    """One step of `subject`'s alert (a fresh inactive one if it has none) under `condition`,
    the rule's condition in force now; keeps changes."""
    before = alerts.get(subject.id)
    alert = before or new_alert(rule, subject)
    after, transitions = step(rule, alert, observation, now, condition)
    result.stepped += 1
    if after is not alert:
        result.changes.append(Change(before, after, transitions))


def _fold(aggregate: Aggregate | None, values: npt.NDArray[np.float64]) -> float | None:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return None
    if aggregate is Aggregate.MIN:
        return float(present.min())
    if aggregate is Aggregate.MAX:
        return float(present.max())
    if aggregate is Aggregate.SUM:
        return float(present.sum())
    return float(present.mean())  # avg, and share_offline (the mean of 0/100 per sensor)
