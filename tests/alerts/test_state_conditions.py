"""The state machine under the other conditions: absence, flatline, rate of change, a band."""

from __future__ import annotations

from datetime import timedelta

from alerts.engine.state import (
    NO_DATA,
    NO_TRANSITIONS,
    Observation,
    step,
)
from alerts.model import Grade, Phase
from alerts.rules.defaults import absence_rule
from alerts.rules.rule import (
    Condition,
    ConditionKind,
    Direction,
    Rule,
    Scope,
    Timing,
    build_levels,
)
from schemas.registry import Registry
from tests.alerts.stepping import at, firing, fresh, kinds, value

# --- absence, flatline, rate of change -----------------------------------------------------


def test_absence_fires_after_k_intervals_of_silence_and_resolves_when_data_returns(
    registry: Registry,
) -> None:
    sensor_type = registry.types["water_main_pressure"]
    assert sensor_type.reporting_interval == 60
    rule = absence_rule(sensor_type)  # 3 intervals, yellow, no hold
    alert = fresh(rule)
    same, transitions = step(rule, alert, Observation(last_seen=at(0)), at(2.99))
    assert same is alert
    assert transitions is NO_TRANSITIONS
    alert, transitions = step(rule, alert, Observation(last_seen=at(0)), at(3))
    assert alert.phase is Phase.FIRING
    assert alert.grade is Grade.YELLOW
    assert kinds(transitions) == ["firing"]
    still, transitions = step(rule, alert, Observation(last_seen=at(0)), at(30))
    assert still is alert
    assert transitions == ()
    alert, transitions = step(rule, alert, Observation(value=0.31, last_seen=at(31)), at(31))
    assert alert.phase is Phase.RESOLVED
    assert alert.resolved_at == at(31)
    assert kinds(transitions) == ["resolved"]


def test_absence_without_any_reading_ever_changes_nothing(registry: Registry) -> None:
    rule = absence_rule(registry.types["water_main_pressure"])
    alert = fresh(rule)
    assert step(rule, alert, NO_DATA, at(600)) == (alert, NO_TRANSITIONS)


def flatline_rule(hold: float = 0) -> Rule:
    condition = Condition(
        ConditionKind.FLATLINE, unchanged_for=timedelta(hours=2), grade=Grade.BLUE
    )
    return Rule(
        id="stuck",
        scope=Scope("water_main_pressure"),
        metric="pressure",
        condition=condition,
        timing=Timing(hold=timedelta(minutes=hold)),
        domain="water",
    )


def test_flatline_fires_once_the_value_has_not_moved_long_enough() -> None:
    rule = flatline_rule()
    alert = fresh(rule)
    same, transitions = step(rule, alert, Observation(0.3, unchanged_for=timedelta(hours=1)), at(0))
    assert same is alert
    assert transitions == ()
    alert, transitions = step(
        rule, alert, Observation(0.3, unchanged_for=timedelta(hours=2)), at(60)
    )
    assert alert.phase is Phase.FIRING
    assert alert.grade is Grade.BLUE
    assert kinds(transitions) == ["firing"]
    alert, transitions = step(rule, alert, Observation(0.31, unchanged_for=timedelta(0)), at(61))
    assert alert.phase is Phase.RESOLVED
    assert kinds(transitions) == ["resolved"]


def rate_rule() -> Rule:
    levels = build_levels(
        Direction.BELOW, [(Grade.YELLOW, -0.02), (Grade.ORANGE, -0.05)], value_range=None
    )
    return Rule(
        id="fast_drop",
        scope=Scope("water_main_pressure"),
        metric="pressure",
        condition=Condition(
            ConditionKind.RATE_OF_CHANGE, below=levels, window=timedelta(minutes=5)
        ),
        timing=Timing(),
        domain="water",
    )


def test_rate_of_change_compares_the_rate_not_the_value() -> None:
    rule = rate_rule()
    alert = fresh(rule)
    # A low value with no rate is no evidence for a rate rule.
    same, transitions = step(rule, alert, Observation(value=-1.0), at(0))
    assert same is alert
    assert transitions == ()
    alert, transitions = step(rule, alert, Observation(value=0.3, rate_per_min=-0.03), at(1))
    assert (alert.phase, alert.grade, alert.value) == (Phase.FIRING, Grade.YELLOW, -0.03)
    alert, transitions = step(rule, alert, Observation(value=0.2, rate_per_min=-0.06), at(2))
    assert kinds(transitions) == ["grade_up"]
    assert alert.grade is Grade.ORANGE
    alert, transitions = step(rule, alert, Observation(value=0.2, rate_per_min=0.0), at(3))
    assert alert.phase is Phase.RESOLVED
    assert kinds(transitions) == ["resolved"]


def band_rule() -> Rule:
    """Outside a band: too high from 80 (recovery 75), too low from 20 (recovery 25)."""
    above = build_levels(
        Direction.ABOVE, [(Grade.YELLOW, 80.0)], value_range=(0, 100), hysteresis=5
    )
    below = build_levels(
        Direction.BELOW, [(Grade.YELLOW, 20.0)], value_range=(0, 100), hysteresis=5
    )
    return Rule(
        id="band",
        scope=Scope("indoor_environment"),
        metric="humidity",
        condition=Condition(ConditionKind.OUTSIDE, above=above, below=below),
        timing=Timing(),
        domain="buildings",
    )


def test_outside_a_band_each_side_holds_only_its_own_grade() -> None:
    rule = band_rule()
    high = firing(rule, 85)
    held, transitions = step(rule, high, value(77), at(1))  # upper recovery band: held
    assert (held, transitions) == (high, ())
    # 22 is inside the *low* side's recovery band: an ordinary value for a "too high" alert.
    resolved, transitions = step(rule, high, value(22), at(1))
    assert resolved.phase is Phase.RESOLVED
    assert kinds(transitions) == ["resolved"]

    low = firing(rule, 15)
    held, transitions = step(rule, low, value(23), at(1))
    assert (held, transitions) == (low, ())
    resolved, transitions = step(rule, low, value(78), at(1))
    assert resolved.phase is Phase.RESOLVED
    # Straight from one side past the other's threshold: still outside the band, still firing.
    same, transitions = step(rule, low, value(90), at(1))
    assert same.phase is Phase.FIRING
    assert transitions == ()
