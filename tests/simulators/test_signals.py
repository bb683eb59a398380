"""Simulated signals: daily shapes in Shanghai time, determinism, ranges, counters, states."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from schemas.registry import Registry, parse_sensor_type
from schemas.sensor_type import MetricKind, Profile
from simulators.fleet import build_fleet
from simulators.model import NO_EFFECT, Effect, SimSensor
from simulators.signals import SHANGHAI, SignalModel, profile_shape

MONDAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)  # a Monday, local midnight
SUNDAY = MONDAY + timedelta(days=6)


def _local(day: datetime, hour: float) -> datetime:
    return day + timedelta(hours=hour)


def _times(start: datetime, hours: float, step_min: float) -> Iterator[datetime]:
    for i in range(int(hours * 60 / step_min)):
        yield start + timedelta(minutes=i * step_min)


@pytest.fixture(scope="module")
def fleet(registry: Registry) -> list[SimSensor]:
    return build_fleet(registry, seed=7)


def _sensors(fleet: list[SimSensor], type_name: str, count: int = 3) -> list[SimSensor]:
    return [s for s in fleet if s.type_name == type_name][:count]


# -- profiles ----------------------------------------------------------------------------------


def test_night_minimum_is_lowest_at_night() -> None:
    at = profile_shape
    assert at(Profile.NIGHT_MINIMUM, _local(MONDAY, 3)) < at(
        Profile.NIGHT_MINIMUM, _local(MONDAY, 8)
    )
    assert at(Profile.NIGHT_MINIMUM, _local(MONDAY, 3)) < at(
        Profile.NIGHT_MINIMUM, _local(MONDAY, 19.5)
    )
    assert at(Profile.NIGHT_MAXIMUM, _local(MONDAY, 3)) > at(
        Profile.NIGHT_MAXIMUM, _local(MONDAY, 8)
    )


def test_commute_office_evening_and_daytime_peaks() -> None:
    shape = profile_shape
    assert shape(Profile.COMMUTE, _local(MONDAY, 8.5)) > shape(Profile.COMMUTE, _local(MONDAY, 3))
    assert shape(Profile.COMMUTE, _local(MONDAY, 18.25)) > shape(
        Profile.COMMUTE, _local(MONDAY, 13)
    )
    assert shape(Profile.COMMUTE, _local(MONDAY, 8.5)) > shape(Profile.COMMUTE, _local(SUNDAY, 8.5))
    assert shape(Profile.OFFICE_HOURS, _local(MONDAY, 11)) > shape(
        Profile.OFFICE_HOURS, _local(SUNDAY, 11)
    )
    assert shape(Profile.OFFICE_HOURS, _local(MONDAY, 11)) > shape(
        Profile.OFFICE_HOURS, _local(MONDAY, 23)
    )
    assert shape(Profile.EVENING_PEAK, _local(MONDAY, 20)) > shape(
        Profile.EVENING_PEAK, _local(MONDAY, 4)
    )
    assert shape(Profile.DAYTIME, _local(MONDAY, 14)) == pytest.approx(1.0)
    assert shape(Profile.DAYTIME, _local(MONDAY, 5)) == pytest.approx(-1.0)
    assert shape(Profile.FLAT, _local(MONDAY, 9)) == 0.0


@pytest.mark.parametrize("profile", list(Profile))
def test_profiles_are_bounded_and_continuous(profile: Profile) -> None:
    # A whole week at one-minute steps, across both weekend midnights.
    values = [profile_shape(profile, t) for t in _times(MONDAY, 7 * 24, 1)]
    assert all(-1.0 <= v <= 1.0 for v in values)
    assert max(abs(b - a) for a, b in itertools.pairwise(values)) < 0.04


def test_profile_accepts_any_offset_and_naive_local_time() -> None:
    local = _local(MONDAY, 8.25)
    as_utc = local.astimezone(UTC)
    naive = local.replace(tzinfo=None)
    for profile in Profile:
        assert profile_shape(profile, as_utc) == profile_shape(profile, local)
        assert profile_shape(profile, naive) == profile_shape(profile, local)


# -- gauges ------------------------------------------------------------------------------------


def test_water_pressure_rises_at_night_and_stays_in_range(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=1)
    for sensor in _sensors(fleet, "water_main_pressure"):
        metric = sensor.sensor_type.metric("pressure")
        day = {t: model.value(sensor, "pressure", t) for t in _times(MONDAY, 24, 1)}
        night = [v for t, v in day.items() if 2 <= t.hour < 4]
        morning = [v for t, v in day.items() if 7 <= t.hour < 9]
        assert sum(night) / len(night) > sum(morning) / len(morning) + 0.03
        for v in day.values():
            assert metric.range.min <= v <= metric.range.max
            assert round(v, metric.precision) == v


def test_every_gauge_stays_in_range_and_precision(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=2)
    by_type = {s.type_name: s for s in fleet}
    for sensor in by_type.values():
        for t in _times(SUNDAY, 36, 17):
            for name, v in model.reading(sensor, t, {}).items():
                metric = sensor.sensor_type.metric(name)
                assert metric.range.min <= v <= metric.range.max, (sensor.id, name, v)
                assert round(v, metric.precision) == v, (sensor.id, name, v)


def test_same_seed_same_values_other_seed_other_values(fleet: list[SimSensor]) -> None:
    sensor = _sensors(fleet, "distribution_transformer", 1)[0]
    times = list(_times(MONDAY, 6, 7))
    first = [SignalModel(seed=3).reading(sensor, t, {}) for t in times]
    again = [SignalModel(seed=3).reading(sensor, t, {}) for t in times]
    other = [SignalModel(seed=4).reading(sensor, t, {}) for t in times]
    assert first == again
    assert first != other


def test_sensors_of_one_type_differ(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=1)
    at = _local(MONDAY, 10)
    values = {model.value(s, "load", at) for s in _sensors(fleet, "distribution_transformer", 10)}
    assert len(values) > 5


def test_multiply_effect_lowers_pressure_by_forty_percent(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=1)
    sensor = _sensors(fleet, "water_main_pressure", 1)[0]
    burst = Effect(multiply=0.6)
    for t in _times(MONDAY, 3, 10):
        normal = model.value(sensor, "pressure", t)
        assert model.value(sensor, "pressure", t, burst) == pytest.approx(normal * 0.6, abs=0.001)
        assert model.value(sensor, "pressure", t, Effect(multiply=0.6, weight=0.0)) == normal


def test_naive_times_and_wrong_kinds_are_refused(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=1)
    sensor = _sensors(fleet, "water_flow_meter", 1)[0]
    with pytest.raises(ValueError, match="naive"):
        model.value(sensor, "flow", datetime(2026, 11, 23, 8))
    with pytest.raises(ValueError, match="counter"):
        model.value(sensor, "volume", MONDAY)
    with pytest.raises(KeyError, match="pressure"):
        model.value(sensor, "pressure", MONDAY)


# -- counters ----------------------------------------------------------------------------------


def test_counters_never_decrease_and_grow_by_about_a_day_of_rate(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=5)
    counters = [
        (sensor, name, metric.simulator.baseline)
        for sensor in {s.type_name: s for s in fleet}.values()
        for name, metric in sensor.sensor_type.metrics.items()
        if metric.kind is MetricKind.COUNTER and metric.simulator is not None
    ]
    assert len(counters) >= 5
    for sensor, name, per_hour in counters:
        totals = [model.counter(sensor, name, t) for t in _times(SUNDAY, 24 + 5 / 60, 5)]
        assert all(b >= a for a, b in itertools.pairwise(totals)), (sensor.id, name)
        assert 0.5 * per_hour * 24 <= totals[-1] - totals[0] <= 2.0 * per_hour * 24


def test_counters_are_the_same_for_the_same_moment_and_positive(fleet: list[SimSensor]) -> None:
    sensor = _sensors(fleet, "building_energy_meter", 1)[0]
    at = _local(MONDAY, 13.5)
    total = SignalModel(seed=1).counter(sensor, "energy", at)
    assert total == SignalModel(seed=1).counter(sensor, "energy", at) > 0
    assert total != SignalModel(seed=2).counter(sensor, "energy", at)


# -- states ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "metric"), [("ev_charger", "charging"), ("onstreet_space_sensor", "occupied")]
)
def test_state_is_on_for_a_plausible_share_of_time(
    fleet: list[SimSensor], type_name: str, metric: str
) -> None:
    model = SignalModel(seed=6)
    samples = [
        model.state(sensor, metric, t)
        for sensor in _sensors(fleet, type_name, 4)
        for t in _times(MONDAY, 5 * 24, 1)
    ]
    assert set(samples) <= {0.0, 1.0}
    share = sum(samples) / len(samples)
    # 10-14 events a day of 5-30 minutes: around an eighth to a sixth of the time.
    assert 0.03 < share < 0.5


def test_events_last_minutes_not_moments(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=6)
    sensor = _sensors(fleet, "ev_charger", 1)[0]
    states = [model.state(sensor, "charging", t) for t in _times(MONDAY, 2 * 24, 1)]
    runs: list[int] = []
    for previous, current in itertools.pairwise([0.0, *states]):
        if current and not previous:
            runs.append(0)
        if current:
            runs[-1] += 1
    # Runs cut by the window's edges are not whole events.
    whole = runs[1 if states[0] else 0 : -1 if states[-1] else None]
    assert whole
    # Overlapping events merge, so a run can exceed 30 minutes, but none is shorter than 5.
    assert min(whole) >= 5


def test_set_effect_forces_a_state(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=1)
    sensor = _sensors(fleet, "smoke_detector", 1)[0]
    fire = Effect(set=1.0)
    for t in _times(MONDAY, 2, 10):
        assert model.state(sensor, "smoke_alarm", t) == 0.0
        assert model.state(sensor, "smoke_alarm", t, fire) == 1.0
        assert model.state(sensor, "smoke_alarm", t, Effect(set=1.0, weight=0.3)) == 0.0
        assert model.reading(sensor, t, {"smoke_alarm": fire})["smoke_alarm"] == 1.0


# -- readings ----------------------------------------------------------------------------------


BARE_TYPE = """
name: bare_probe
domain: water
display_name: {zh: 探头, en: Probe}
description: A type whose metrics have no simulator hints.
reporting_interval: 1m
metrics:
  level:
    display_name: {zh: 水位, en: Level}
    unit: m
    range: {min: 0, max: 10}
    precision: 2
  alarm:
    display_name: {zh: 告警, en: Alarm}
    unit: bool
    kind: state
    range: {min: 0, max: 1}
    precision: 0
  pulses:
    display_name: {zh: 脉冲, en: Pulses}
    unit: count
    kind: counter
    range: {min: 0, max: 99999999}
    precision: 0
"""


def test_reading_covers_the_type_and_fills_in_metrics_without_hints() -> None:
    sensor_type = parse_sensor_type(BARE_TYPE, "bare_probe.yaml")
    sensor = SimSensor("sim-bp-01-0001", sensor_type, "yinhang", 31.323, 121.538)
    model = SignalModel(seed=1)
    values = model.reading(sensor, MONDAY, {})
    assert set(values) == {"level", "alarm"}
    assert values["level"] == pytest.approx(5.0, abs=0.5)
    assert values["alarm"] == 0.0
    with pytest.raises(ValueError, match="hints"):
        model.counter(sensor, "pulses", MONDAY)


def test_reading_matches_the_single_metric_calls(fleet: list[SimSensor]) -> None:
    model = SignalModel(seed=9)
    sensor = _sensors(fleet, "ev_charger", 1)[0]
    at = _local(MONDAY, 19.1)
    effects = {"output_power": Effect(add=50.0)}
    values = model.reading(sensor, at, effects)
    assert values == {
        "output_power": model.value(sensor, "output_power", at, effects["output_power"]),
        "energy_delivered": model.counter(sensor, "energy_delivered", at),
        "charging": model.state(sensor, "charging", at),
        "connector_temperature": model.value(sensor, "connector_temperature", at, NO_EFFECT),
        "fault": model.state(sensor, "fault", at),
    }
