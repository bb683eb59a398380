"""The pure alert state machine, stepped through time with explicit `now` values: hold,
hysteresis and keep_firing_for, grades, no data and the common path."""

from __future__ import annotations

import pytest

from alerts.engine.state import (
    NO_DATA,
    NO_TRANSITIONS,
    Observation,
    step,
)
from alerts.model import Grade, Phase
from tests.alerts.stepping import at, firing, fresh, kinds, load_rule, run, value

# --- hold: pending, then firing ------------------------------------------------------------


def test_hold_then_fire() -> None:
    rule = load_rule(hold=5)
    alert, transitions = step(rule, fresh(rule), value(92), at(0))
    assert alert.phase is Phase.PENDING
    assert alert.grade is Grade.ORANGE
    assert alert.pending_since == at(0)
    assert alert.firing_since is None
    assert [(t.kind, t.from_phase, t.to_phase) for t in transitions] == [
        ("pending", Phase.INACTIVE, Phase.PENDING)
    ]

    alert, transitions = step(rule, alert, value(92), at(4.99))
    assert alert.phase is Phase.PENDING
    assert transitions == ()

    alert, transitions = step(rule, alert, value(92), at(5))
    assert alert.phase is Phase.FIRING
    assert alert.firing_since == at(5)
    assert alert.pending_since == at(0)
    assert alert.grade_changed_at == at(5)
    assert [(t.kind, t.from_phase, t.to_phase, t.grade) for t in transitions] == [
        ("firing", Phase.PENDING, Phase.FIRING, Grade.ORANGE)
    ]


def test_hold_zero_fires_at_once() -> None:
    rule = load_rule(hold=0)
    alert, transitions = step(rule, fresh(rule), value(101), at(0))
    assert alert.phase is Phase.FIRING
    assert alert.grade is Grade.RED
    assert alert.value == 101
    assert alert.pending_since == alert.firing_since == alert.grade_changed_at == at(0)
    assert [(t.kind, t.from_phase, t.grade) for t in transitions] == [
        ("firing", Phase.INACTIVE, Grade.RED)
    ]


def test_pending_grade_follows_the_value_and_fires_at_the_latest() -> None:
    rule = load_rule(hold=5)
    alert, transitions = run(rule, fresh(rule), [(0, value(82)), (2, value(104))])
    assert alert.phase is Phase.PENDING
    assert alert.grade is Grade.RED
    assert kinds(transitions) == ["pending"]  # a grade change while pending is no news
    alert, transitions = step(rule, alert, value(93), at(5))
    assert alert.phase is Phase.FIRING
    assert alert.grade is Grade.ORANGE  # past red's recovery (95): orange
    assert transitions[0].grade is Grade.ORANGE


def test_pending_inside_the_recovery_band_keeps_pending() -> None:
    rule = load_rule(hold=5)
    alert, _ = step(rule, fresh(rule), value(81), at(0))
    alert, transitions = step(rule, alert, value(76), at(2))  # below 80, above recovery 75
    assert alert.phase is Phase.PENDING
    assert alert.grade is Grade.YELLOW
    assert transitions == ()


def test_pending_that_clears_before_hold_goes_back_to_inactive_with_an_audit_line() -> None:
    rule = load_rule(hold=5)
    alert, _ = step(rule, fresh(rule), value(85), at(0))
    cleared, transitions = step(rule, alert, value(60), at(3))
    assert cleared.phase is Phase.INACTIVE
    assert cleared == fresh(rule)  # a blank alert: no timers, no grade, labels kept
    assert cleared.labels == alert.labels != {}
    assert [(t.kind, t.from_phase, t.to_phase, t.grade, t.previous_grade) for t in transitions] == [
        ("pending_cleared", Phase.PENDING, Phase.INACTIVE, None, Grade.YELLOW)
    ]
    assert transitions[0].value == 60
    assert transitions[0].fingerprint == alert.fingerprint


# --- hysteresis and keep_firing_for against flapping ---------------------------------------


def flapping(start: float, count: int, high: float, low: float) -> list[tuple[float, Observation]]:
    return [(start + i, value(high if i % 2 == 0 else low)) for i in range(count)]


def test_flapping_inside_the_recovery_band_is_one_episode() -> None:
    rule = load_rule(hold=0, keep=0, hysteresis=5)
    alert, transitions = run(rule, fresh(rule), flapping(0, 20, high=81, low=77))
    assert kinds(transitions).count("firing") == 1
    assert "resolved" not in kinds(transitions)
    assert alert.phase is Phase.FIRING
    assert alert.firing_since == at(0)


def test_without_hysteresis_the_same_signal_flaps() -> None:
    # The control for the test above: the band is what makes it one episode.
    rule = load_rule(hold=0, keep=0, hysteresis=0)
    _, transitions = run(rule, fresh(rule), flapping(0, 20, high=81, low=77))
    assert kinds(transitions).count("firing") == 10
    assert kinds(transitions).count("resolved") == 10


def test_recovery_needs_the_value_strictly_past_the_recovery_level() -> None:
    rule = load_rule(hold=0, keep=0, hysteresis=5)
    alert = firing(rule, 85)
    alert, transitions = step(rule, alert, value(75), at(1))  # exactly the recovery level
    assert alert.phase is Phase.FIRING
    assert transitions == ()
    alert, transitions = step(rule, alert, value(74.9), at(2))
    assert alert.phase is Phase.RESOLVED
    assert kinds(transitions) == ["resolved"]


def test_keep_firing_for_a_short_dip_does_not_resolve() -> None:
    rule = load_rule(hold=0, keep=10)
    alert = firing(rule, 85)
    alert, transitions = run(rule, alert, [(m, value(50)) for m in range(1, 10)])
    assert transitions == ()
    assert alert.phase is Phase.FIRING
    assert alert.clearing_since == at(1)
    alert, transitions = step(rule, alert, value(85), at(10))
    assert transitions == ()
    assert alert.phase is Phase.FIRING
    assert alert.clearing_since is None  # the dip is over; the next one counts afresh
    assert alert.firing_since == at(0)


def test_keep_firing_for_a_long_dip_resolves() -> None:
    rule = load_rule(hold=0, keep=10)
    alert = firing(rule, 85)
    alert, transitions = run(rule, alert, [(m, value(50)) for m in range(1, 11)])
    assert transitions == ()
    assert alert.phase is Phase.FIRING
    alert, transitions = step(rule, alert, value(50), at(11))  # 10 minutes after the dip began
    assert alert.phase is Phase.RESOLVED
    assert alert.resolved_at == at(11)
    assert alert.clearing_since is None
    assert [(t.kind, t.from_phase, t.to_phase) for t in transitions] == [
        ("resolved", Phase.FIRING, Phase.RESOLVED)
    ]


def test_keep_firing_for_against_a_flapping_signal() -> None:
    # Dips of one minute every other minute, well past the recovery level: never resolves.
    rule = load_rule(hold=0, keep=5, hysteresis=5)
    alert, transitions = run(rule, fresh(rule), flapping(0, 30, high=85, low=40))
    assert kinds(transitions) == ["firing"]
    assert alert.phase is Phase.FIRING


# --- grades move without reopening --------------------------------------------------------


def test_grade_up_at_once_grade_down_after_keep_firing_for_resolve_keeps_last_grade() -> None:
    rule = load_rule(hold=0, keep=10)
    alert = firing(rule, 85)
    assert alert.grade is Grade.YELLOW

    alert, transitions = step(rule, alert, value(105), at(3))
    assert alert.grade is Grade.RED
    assert alert.phase is Phase.FIRING
    assert alert.firing_since == at(0)  # not closed and reopened
    assert alert.grade_changed_at == at(3)
    assert [(t.kind, t.grade, t.previous_grade) for t in transitions] == [
        ("grade_up", Grade.RED, Grade.YELLOW)
    ]

    # Orange territory (past red's recovery at 95): only after keep_firing_for.
    alert, transitions = run(rule, alert, [(m, value(92)) for m in range(4, 14)])
    assert transitions == ()
    assert alert.grade is Grade.RED
    alert, transitions = step(rule, alert, value(92), at(14))
    assert alert.grade is Grade.ORANGE
    assert alert.firing_since == at(0)
    assert alert.grade_changed_at == at(14)
    assert [(t.kind, t.grade, t.previous_grade) for t in transitions] == [
        ("grade_down", Grade.ORANGE, Grade.RED)
    ]

    alert, transitions = run(rule, alert, [(m, value(30)) for m in range(15, 25)])
    assert transitions == ()
    alert, transitions = step(rule, alert, value(30), at(25))
    assert alert.phase is Phase.RESOLVED
    assert alert.grade is Grade.ORANGE  # what has ended
    assert [(t.kind, t.grade, t.previous_grade) for t in transitions] == [
        ("resolved", Grade.ORANGE, Grade.ORANGE)
    ]


def test_grade_up_during_a_dip_applies_at_once_and_ends_the_dip() -> None:
    rule = load_rule(hold=0, keep=10)
    alert = firing(rule, 92)  # orange
    alert, _ = step(rule, alert, value(50), at(1))
    assert alert.clearing_since == at(1)
    alert, transitions = step(rule, alert, value(120), at(2))
    assert kinds(transitions) == ["grade_up"]
    assert alert.grade is Grade.RED
    assert alert.clearing_since is None


# --- no data, the common path --------------------------------------------------------------


@pytest.mark.parametrize("observation", [NO_DATA, Observation(), Observation(value=None)])
def test_no_data_changes_nothing(observation: Observation) -> None:
    rule = load_rule(hold=5)
    pending, _ = step(rule, fresh(rule), value(85), at(0))
    fired, _ = step(rule, pending, value(85), at(5))
    dipping = load_rule(hold=0, keep=10)
    clearing, _ = step(dipping, firing(dipping, 85), value(20), at(1))
    for r, alert in ((rule, fresh(rule)), (rule, pending), (rule, fired), (dipping, clearing)):
        # Long after: a silent sensor neither fires, nor resolves, nor finishes a dip.
        same, transitions = step(r, alert, observation, at(120))
        assert same is alert
        assert transitions is NO_TRANSITIONS


def test_the_common_path_returns_the_same_alert_and_no_transitions() -> None:
    rule = load_rule(hold=0)
    quiet = fresh(rule)
    for v in (0.0, 50.0, 79.99):
        same, transitions = step(rule, quiet, value(v), at(1))
        assert same is quiet
        assert transitions is NO_TRANSITIONS
    steady = firing(rule, 85)
    for minute, v in ((1, 85.0), (2, 88.0), (3, 76.0)):
        same, transitions = step(rule, steady, value(v), at(minute))
        assert same is steady
        assert transitions is NO_TRANSITIONS


def test_a_resolved_alert_inside_the_recovery_band_stays_resolved() -> None:
    rule = load_rule(hold=0, keep=0)
    alert, _ = run(rule, firing(rule, 85), [(1, value(60))])
    assert alert.phase is Phase.RESOLVED
    # Between recovery (75) and threshold (80): a new episode starts from the firing levels.
    same, transitions = step(rule, alert, value(78), at(2))
    assert same is alert
    assert transitions is NO_TRANSITIONS
