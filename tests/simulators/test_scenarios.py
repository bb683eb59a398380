"""Incident scenarios: the shipped drills load and would raise the alerts they promise, and
effects ramp, compose and select as documented."""

from __future__ import annotations

import math
from datetime import datetime, time

import pytest

from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Grade, MetricKind
from simulators.model import Effect
from simulators.scenario_model import DISTRICT, distance_m, draw
from simulators.scenarios import (
    SHANGHAI,
    load_scenarios,
)
from tests.simulators.drill_helpers import (
    GOOD,
    METRES_PER_DEGREE,
    SHIPPED,
    SMOKE,
    STADIUM,
    _default_fleet,
    _drill,
    _grade,
    _hold_s,
    _reading,
    _sensor,
)

# --- the shipped drills -----------------------------------------------------------------------


def test_shipped_scenarios_load(registry: Registry) -> None:
    scenarios = load_scenarios(registry)
    assert set(scenarios) >= SHIPPED
    for name, scenario in scenarios.items():
        assert scenario.name == name
        assert scenario.display_name.zh
        assert scenario.display_name.en
        assert scenario.expected_alerts, f"{name} promises no alert"
        assert scenario.source == f"scenarios/{name}.yaml"


def test_every_expected_alert_has_an_affected_sensor_in_a_default_density_fleet(
    registry: Registry,
) -> None:
    fleet = _default_fleet(registry)
    for scenario in load_scenarios(registry).values():
        assert scenario.uncovered_alerts(fleet) == [], scenario.name


def test_expected_alerts_are_reached_in_time_from_the_baselines(registry: Registry) -> None:
    """Steps each drill on the default-density fleet and checks each promise: the grade is reached
    even from a pessimistic baseline (2 sigma of noise, the full drift and a calibration offset of
    4 % of the baseline, on the side away from the threshold), holds for the threshold's hold, and
    early enough that two reporting intervals still fit before `within`. State metrics count as
    sent at once, as the devices do. Daily profiles are the business of each drill's time_of_day."""
    fleet = _default_fleet(registry)
    for scenario in load_scenarios(registry).values():
        for alert in scenario.expected_alerts:
            sensor_type = registry.types[alert.type]
            metric = sensor_type.metrics[alert.metric]
            sim = metric.simulator
            assert sim is not None
            spread = 0.0
            if metric.kind is MetricKind.GAUGE:
                spread = 2 * sim.noise + sim.drift + 0.04 * abs(sim.baseline)
            interval = 0.0 if metric.kind is MetricKind.STATE else sensor_type.reporting_interval
            target, hold = GRADES_BY_SEVERITY.index(alert.grade), _hold_s(metric)
            fired: list[float] = []
            for sensor in scenario.affected(fleet):
                if sensor.type_name != alert.type or alert.subdistrict not in (
                    DISTRICT,
                    sensor.subdistrict,
                ):
                    continue
                since: float | None = None
                for t in (step * 10.0 for step in range(int(scenario.end_s // 10) + 1)):
                    effect = scenario.effect_for(sensor, alert.metric, t)
                    worst = min(
                        _grade(metric, _reading(metric, effect, sim.baseline + sign * spread))
                        for sign in (-1, 1)
                    )
                    since = (t if since is None else since) if worst >= target else None
                    if since is not None and t - since >= hold:
                        fired.append(t)
                        break
            label = f"{scenario.name}: {alert.type}.{alert.metric} in {alert.subdistrict}"
            assert fired, f"{label} never holds {alert.grade.value}"
            fires = min(fired) + 2 * interval
            assert fires <= alert.within_s, f"{label} fires at {fires / 60:.1f} min at the earliest"


def test_water_main_burst_pressure_arithmetic(registry: Registry) -> None:
    # The example of the design note: 0.30 MPa x 0.6 = 0.18, yellow (0.20) but not orange (0.16).
    burst = load_scenarios(registry)["water_main_burst"]
    gauges = [s for s in _default_fleet(registry) if s.type_name == "water_main_pressure"]
    effects = [burst.effect_for(s, "pressure", 20 * 60) for s in gauges]
    values = sorted({round(e.apply(0.30), 6) for e in effects if e is not None})
    assert values == [0.18, 0.24]  # half the gauges 0.8 x 0.75, the rest 0.8
    metric = registry.types["water_main_pressure"].metrics["pressure"]
    assert _grade(metric, 0.18) == GRADES_BY_SEVERITY.index(Grade.YELLOW)


# --- effects over time ------------------------------------------------------------------------

RAMPS = GOOD.replace("ramp_in: 2m", "start: 1m\n    ramp_in: 2m")


def test_effect_ramps_in_holds_and_ramps_out(registry: Registry) -> None:
    scenario = _drill(registry, RAMPS)  # start 60 s, full at 180 s, end 600 s, over at 840 s
    assert scenario.end_s == 600 + 240
    gauge = _sensor(registry, "water_main_pressure", "p1")

    def weight(t: float) -> float | None:
        effect = scenario.effect_for(gauge, "pressure", t)
        return None if effect is None else effect.weight

    assert weight(-1) is None
    assert weight(0) is None  # nothing changes before the effect's start
    assert weight(59) is None
    assert weight(120) == pytest.approx(0.5)  # halfway through ramp_in
    assert weight(180) == 1.0
    assert weight(400) == 1.0
    # Linear back to nothing over ramp_out (240 s from the end at 600 s).
    assert [weight(t) for t in (630, 660, 720, 780)] == pytest.approx([0.875, 0.75, 0.5, 0.25])
    assert weight(840) is None
    assert weight(5000) is None
    full = scenario.effect_for(gauge, "pressure", 400)
    assert full is not None
    assert full.apply(0.30) == pytest.approx(0.18)


def test_no_effect_on_other_metrics_places_or_types(registry: Registry) -> None:
    scenario = _drill(registry)
    assert scenario.effect_for(_sensor(registry, "water_main_pressure", "p"), "battery", 60) is None
    elsewhere = _sensor(registry, "water_main_pressure", "q", "wujiaochang")
    assert scenario.effect_for(elsewhere, "pressure", 300) is None
    assert scenario.effect_for(_sensor(registry, "drain_level", "d"), "water_level", 300) is None


def test_effects_on_one_metric_compose_in_order(registry: Registry) -> None:
    second = """
  - select: {type: water_main_pressure}
    metric: pressure
    add: -0.05
    ramp_in: 2m
  - select: {type: water_main_pressure}
    metric: pressure
    set: 0.1
    start: 8m
expected_alerts:"""
    scenario = _drill(registry, GOOD.replace("\nexpected_alerts:", second, 1))
    gauge = _sensor(registry, "water_main_pressure", "p1")
    halfway = scenario.effect_for(gauge, "pressure", 60)
    assert halfway is not None
    # Each at half strength, one after the other: 0.30 -> 0.24 (x0.8) -> 0.215 (-0.025).
    assert halfway.weight == pytest.approx(0.5)
    assert halfway.apply(0.30) == pytest.approx(0.215)
    full = scenario.effect_for(gauge, "pressure", 300)
    assert full is not None
    assert full.apply(0.30) == pytest.approx(0.30 * 0.6 - 0.05)
    # A full-strength set overrides what came before it and keeps its plain form.
    overridden = scenario.effect_for(gauge, "pressure", 9 * 60)
    assert overridden == Effect(set=0.1, weight=1.0)
    ramping_out = scenario.effect_for(gauge, "pressure", 11 * 60)  # set gone, first at 0.75
    assert ramping_out is not None
    assert ramping_out.apply(0.30) == pytest.approx(0.30 * (1 - 0.4 * 0.75))


def test_state_ramps_switch_sensors_one_by_one(registry: Registry) -> None:
    text = SMOKE.replace("metric: smoke_obscuration\n    add: 4", "metric: smoke_alarm\n    set: 1")
    text = text.replace("ramp_in: 2m", "ramp_in: 200s").split("expected_alerts:")[0]
    scenario = _drill(registry, text)
    detectors = [_sensor(registry, "smoke_detector", f"s{n}") for n in range(400)]

    def on(t: float) -> set[str]:
        switched = set()
        for sensor in detectors:
            effect = scenario.effect_for(sensor, "smoke_alarm", t)
            if effect is not None:
                assert (effect.weight, effect.set) == (1.0, 1.0)  # never a fraction
                switched.add(sensor.id)
        return switched

    quarter, half, full = on(50), on(100), on(200)
    assert quarter < half < full  # once on, a detector stays on while the ramp rises
    assert 0.4 < len(half) / len(detectors) < 0.6
    assert len(full) == len(detectors)


# --- selection --------------------------------------------------------------------------------


def test_share_is_deterministic_and_close_to_the_fraction(registry: Registry) -> None:
    text = GOOD.replace("share: 1.0", "share: 0.3")
    sensors = [_sensor(registry, "water_main_pressure", f"wmp-{n:04d}") for n in range(1000)]
    first = _drill(registry, text).affected(sensors)
    again = _drill(registry, text).affected(sensors)  # a fresh scenario: no shared cache
    assert [s.id for s in first] == [s.id for s in again]
    assert 0.25 < len(first) / len(sensors) < 0.35
    renamed = _drill(registry, text.replace("name: drill", "name: other_drill"))
    assert {s.id for s in renamed.affected(sensors)} != {s.id for s in first}
    # The draw is blake2b of the parts, not Python's per-process salted hash(): pin one value.
    assert draw("drill", "select", "wmp-0001") == pytest.approx(0.136673, abs=1e-6)


def test_shares_of_one_scenario_nest(registry: Registry) -> None:
    second = """
  - select: {type: water_main_pressure, share: 0.4}
    metric: battery
    add: -10
expected_alerts:"""
    text = GOOD.replace("share: 1.0", "share: 0.8").replace("\nexpected_alerts:", second, 1)
    scenario = _drill(registry, text)
    sensors = [_sensor(registry, "water_main_pressure", f"n{n}") for n in range(300)]
    wide = {s.id for s in sensors if scenario.effect_for(s, "pressure", 300) is not None}
    narrow = {s.id for s in sensors if scenario.effect_for(s, "battery", 300) is not None}
    assert narrow < wide


def test_near_selects_by_great_circle_distance(registry: Registry) -> None:
    text = GOOD.replace(
        "subdistricts: [yinhang], share: 1.0",
        f"near: {{lat: {STADIUM[0]}, lon: {STADIUM[1]}, radius_m: 1000}}",
    )
    scenario = _drill(registry, text.replace("subdistrict: yinhang", "subdistrict: district"))
    east = METRES_PER_DEGREE * math.cos(math.radians(STADIUM[0]))  # metres per degree of lon
    placed = {
        "north_100m": (STADIUM[0] + 100 / METRES_PER_DEGREE, STADIUM[1]),
        "east_950m": (STADIUM[0], STADIUM[1] + 950 / east),
        "east_1050m": (STADIUM[0], STADIUM[1] + 1050 / east),
        "south_1300m": (STADIUM[0] - 1300 / METRES_PER_DEGREE, STADIUM[1]),
    }
    sensors = [
        _sensor(registry, "water_main_pressure", name, "wujiaochang", at)
        for name, at in placed.items()
    ]
    assert [s.id for s in scenario.affected(sensors)] == ["north_100m", "east_950m"]
    assert distance_m(*STADIUM, *placed["east_1050m"]) == pytest.approx(1050, abs=1)
    # 0.001 deg north (111 m) and 0.002 deg west (190 m at this latitude) of the stadium.
    assert distance_m(*STADIUM, 31.3010, 121.5150) == pytest.approx(220, abs=1)


def test_uncovered_alerts_lists_promises_no_sensor_can_keep(registry: Registry) -> None:
    scenario = _drill(registry)
    assert scenario.uncovered_alerts([]) == list(scenario.expected_alerts)
    fleet = [_sensor(registry, "water_main_pressure", "p1")]
    assert scenario.uncovered_alerts(fleet) == []


def test_time_of_day_gives_the_next_start_in_shanghai(registry: Registry) -> None:
    scenario = _drill(
        registry, GOOD.replace("duration: 10m", 'duration: 10m\ntime_of_day: "10:00"')
    )
    assert scenario.time_of_day == time(10, 0)
    morning = datetime(2026, 7, 13, 9, 0, tzinfo=SHANGHAI)
    assert scenario.next_start(morning) == datetime(2026, 7, 13, 10, 0, tzinfo=SHANGHAI)
    noon = datetime(2026, 7, 13, 12, 0, tzinfo=SHANGHAI)
    assert scenario.next_start(noon) == datetime(2026, 7, 14, 10, 0, tzinfo=SHANGHAI)
    assert _drill(registry).next_start(noon) == noon
