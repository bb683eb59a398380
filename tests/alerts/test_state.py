"""The pure alert state machine, stepped through time with explicit `now` values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from alerts.errors import AlertActionError, AlertStateError
from alerts.model import Alert, Grade, OpsState, Phase, Subject, Transition
from alerts.rules import (
    Condition,
    ConditionKind,
    Direction,
    Rule,
    Scope,
    Timing,
    absence_rule,
    build_levels,
)
from alerts.state import (
    NO_DATA,
    NO_TRANSITIONS,
    Observation,
    Transitions,
    acknowledge,
    add_note,
    assign,
    close,
    new_alert,
    sensor_subject,
    step,
)
from schemas.registry import Registry

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SENSOR = "yp-dt-0001"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def load_rule(
    *, hold: float = 0, keep: float | None = None, hysteresis: float = 5.0, rule_id: str = "load"
) -> Rule:
    """Transformer load, above: yellow 80, orange 90, red 100; recovery `hysteresis` below each.
    `hold` and `keep` in minutes; keep defaults to hold like the shipped defaults."""
    levels = build_levels(
        Direction.ABOVE,
        [(Grade.YELLOW, 80.0), (Grade.ORANGE, 90.0), (Grade.RED, 100.0)],
        value_range=(0.0, 200.0),
        hysteresis=hysteresis,
    )
    hold_td = timedelta(minutes=hold)
    keep_td = hold_td if keep is None else timedelta(minutes=keep)
    return Rule(
        id=rule_id,
        scope=Scope("distribution_transformer"),
        metric="load",
        condition=Condition(ConditionKind.ABOVE, above=levels),
        timing=Timing(hold=hold_td, keep_firing_for=keep_td),
        domain="power",
    )


def fresh(rule: Rule) -> Alert:
    return new_alert(rule, sensor_subject(rule, SENSOR, "wujiaochang"))


def value(v: float | None) -> Observation:
    return Observation(value=v)


def run(
    rule: Rule, alert: Alert, steps: Iterable[tuple[float, Observation]]
) -> tuple[Alert, Transitions]:
    """Step through (minute, observation) pairs; the final alert and every transition."""
    seen: list[Transition] = []
    for minute, observation in steps:
        alert, transitions = step(rule, alert, observation, at(minute))
        seen.extend(transitions)
    return alert, tuple(seen)


def kinds(transitions: Iterable[Transition]) -> list[str]:
    return [t.kind for t in transitions]


def firing(rule: Rule, v: float = 85.0, minute: float = 0) -> Alert:
    """An alert of `rule` that fired at `minute` with value `v` (the rule must have hold 0)."""
    alert, transitions = step(rule, fresh(rule), value(v), at(minute))
    assert alert.phase is Phase.FIRING
    assert kinds(transitions) == ["firing"]
    return alert


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


# --- episodes and ops ----------------------------------------------------------------------


def test_a_new_breach_after_resolve_starts_a_new_episode() -> None:
    rule = load_rule(hold=5, keep=0)
    alert, _ = run(rule, fresh(rule), [(0, value(85)), (5, value(85))])
    assert alert.phase is Phase.FIRING
    alert, _ = acknowledge(alert, "wang", "seen", at(6))
    alert, _ = assign(alert, "crew-3", "wang", at(7))
    alert, _ = step(rule, alert, value(20), at(8))
    assert alert.phase is Phase.RESOLVED
    assert alert.ops is OpsState.ASSIGNED  # resolving leaves the ops record alone
    first = alert.fingerprint

    again, transitions = step(rule, alert, value(95), at(60))
    assert again.phase is Phase.PENDING
    assert kinds(transitions) == ["pending"]
    assert transitions[0].from_phase is Phase.RESOLVED
    assert again.fingerprint == first
    assert again.pending_since == at(60)
    assert again.firing_since is None
    assert again.resolved_at is None
    assert again.grade_changed_at is None
    assert again.ops is OpsState.OPEN
    assert (again.acknowledged_by, again.acknowledged_at, again.assignee, again.note) == (
        None,
        None,
        None,
        None,
    )
    again, _ = step(rule, again, value(95), at(65))
    assert again.firing_since == at(65)


def test_a_closed_alert_whose_grade_rises_is_reopened() -> None:
    rule = load_rule(hold=0, keep=10)
    alert = firing(rule, 85)
    alert, _ = close(alert, "li", "crew on site", at(1))
    assert alert.ops is OpsState.CLOSED
    same, transitions = step(rule, alert, value(86), at(2))
    assert same is alert  # still firing at the same grade: stays closed
    assert transitions == ()

    alert, transitions = step(rule, alert, value(101), at(3))
    assert kinds(transitions) == ["grade_up", "reopened"]
    assert alert.grade is Grade.RED
    assert alert.firing_since == at(0)
    assert alert.ops is OpsState.OPEN
    assert (alert.closed_at, alert.acknowledged_by, alert.acknowledged_at) == (None, None, None)
    assert transitions[1].note == "grade rose from yellow to red after the alert was closed"
    # It can be acknowledged again.
    alert, transitions = acknowledge(alert, "zhao", None, at(4))
    assert alert.ops is OpsState.ACKNOWLEDGED


def test_a_closed_alert_that_resolves_and_breaches_again_opens_a_new_episode() -> None:
    rule = load_rule(hold=0, keep=0)
    alert, _ = close(firing(rule, 85), "li", None, at(1))
    alert, _ = step(rule, alert, value(10), at(2))
    assert (alert.phase, alert.ops) == (Phase.RESOLVED, OpsState.CLOSED)
    alert, transitions = step(rule, alert, value(91), at(3))
    assert kinds(transitions) == ["firing"]
    assert (alert.ops, alert.closed_at, alert.firing_since) == (OpsState.OPEN, None, at(3))


def test_acknowledge() -> None:
    rule = load_rule()
    alert = firing(rule, 85)
    acked, transitions = acknowledge(alert, "wang", "on it", at(1))
    assert acked.ops is OpsState.ACKNOWLEDGED
    assert (acked.acknowledged_by, acked.acknowledged_at, acked.note) == ("wang", at(1), "on it")
    assert acked.phase is Phase.FIRING
    assert [(t.kind, t.actor, t.note, t.from_phase, t.to_phase) for t in transitions] == [
        ("acknowledged", "wang", "on it", Phase.FIRING, Phase.FIRING)
    ]
    # A double click by the same person is a no-op.
    same, transitions = acknowledge(acked, "wang", "on it", at(2))
    assert same is acked
    assert transitions == ()
    with pytest.raises(AlertStateError, match="already acknowledged by 'wang'") as caught:
        acknowledge(acked, "zhao", None, at(3))
    assert caught.value.action == "acknowledge"
    assert caught.value.alert is acked


def test_assign_implies_acknowledge() -> None:
    alert = firing(load_rule())
    assigned, transitions = assign(alert, "crew-3", "wang", at(1))
    assert assigned.ops is OpsState.ASSIGNED
    assert (assigned.assignee, assigned.acknowledged_by, assigned.acknowledged_at) == (
        "crew-3",
        "wang",
        at(1),
    )
    assert [(t.kind, t.actor, t.note) for t in transitions] == [
        ("acknowledged", "wang", "by assigning"),
        ("assigned", "wang", "to crew-3"),
    ]
    same, transitions = assign(assigned, "crew-3", "wang", at(2))
    assert same is assigned
    assert transitions == ()
    moved, transitions = assign(assigned, "crew-4", "zhao", at(3))
    assert moved.assignee == "crew-4"
    assert moved.acknowledged_by == "wang"  # the first acknowledgement stands
    assert [(t.kind, t.actor, t.note) for t in transitions] == [
        ("assigned", "zhao", "to crew-4 (was crew-3)")
    ]


def test_assign_after_acknowledge_adds_only_the_assignment() -> None:
    acked, _ = acknowledge(firing(load_rule()), "wang", None, at(1))
    assigned, transitions = assign(acked, "crew-3", "zhao", at(2))
    assert kinds(transitions) == ["assigned"]
    assert (assigned.acknowledged_by, assigned.acknowledged_at) == ("wang", at(1))


def test_close_and_notes() -> None:
    alert = firing(load_rule())
    closed, transitions = close(alert, "li", "pump repaired", at(1))
    assert (closed.ops, closed.closed_at, closed.note) == (OpsState.CLOSED, at(1), "pump repaired")
    assert [(t.kind, t.actor, t.note) for t in transitions] == [("closed", "li", "pump repaired")]
    refused: list[Callable[[], object]] = [
        lambda: acknowledge(closed, "li", None, at(2)),
        lambda: assign(closed, "crew-1", "li", at(2)),
        lambda: close(closed, "li", None, at(2)),
    ]
    for action in refused:
        with pytest.raises(AlertStateError, match="closed"):
            action()
    noted, transitions = add_note(closed, "li", "write-up: valve V3 replaced", at(3))
    assert noted.note == "write-up: valve V3 replaced"
    assert noted.ops is OpsState.CLOSED
    assert [(t.kind, t.actor, t.note) for t in transitions] == [
        ("note", "li", "write-up: valve V3 replaced")
    ]


def test_close_without_a_note_keeps_the_earlier_note() -> None:
    acked, _ = acknowledge(firing(load_rule()), "wang", "checking", at(1))
    closed, _ = close(acked, "wang", None, at(2))
    assert closed.note == "checking"


def test_ops_errors_for_empty_input_and_inactive_alerts() -> None:
    rule = load_rule()
    alert = firing(rule)
    with pytest.raises(AlertActionError, match="by= is empty"):
        acknowledge(alert, "  ", None, at(1))
    with pytest.raises(AlertActionError, match="by= is empty"):
        assign(alert, "crew-1", "", at(1))
    with pytest.raises(AlertActionError, match="to= is empty"):
        assign(alert, " ", "wang", at(1))
    with pytest.raises(AlertActionError, match="by= is empty"):
        close(alert, "", None, at(1))
    with pytest.raises(AlertActionError, match="by= is empty"):
        add_note(alert, "", "text", at(1))
    with pytest.raises(AlertActionError, match="needs some text"):
        add_note(alert, "wang", "   ", at(1))
    inactive = fresh(rule)
    refused: list[Callable[[], object]] = [
        lambda: acknowledge(inactive, "wang", None, at(1)),
        lambda: assign(inactive, "crew-1", "wang", at(1)),
        lambda: close(inactive, "wang", None, at(1)),
        lambda: add_note(inactive, "wang", "text", at(1)),
    ]
    for action in refused:
        with pytest.raises(AlertStateError, match="inactive"):
            action()


def test_ops_on_pending_and_resolved_alerts_are_allowed() -> None:
    rule = load_rule(hold=5, keep=0)
    pending, _ = step(rule, fresh(rule), value(85), at(0))
    acked, transitions = acknowledge(pending, "wang", None, at(1))
    assert (acked.phase, acked.ops, kinds(transitions)) == (
        Phase.PENDING,
        OpsState.ACKNOWLEDGED,
        ["acknowledged"],
    )
    resolved, _ = run(rule, pending, [(5, value(85)), (6, value(10))])
    assert resolved.phase is Phase.RESOLVED
    closed, transitions = close(resolved, "wang", "false alarm", at(7))
    assert closed.ops is OpsState.CLOSED
    assert kinds(transitions) == ["closed"]


def test_fingerprint_is_per_rule_and_subject() -> None:
    rule = load_rule()
    other = load_rule(rule_id="load2")
    a = fresh(rule)
    assert a.fingerprint == fresh(rule).fingerprint
    assert a.fingerprint != fresh(other).fingerprint
    elsewhere = new_alert(rule, Subject("sensor", "yp-dt-0002", "power", "wujiaochang"))
    assert a.fingerprint != elsewhere.fingerprint
    assert a.labels == {
        "rule_id": "load",
        "type": "distribution_transformer",
        "domain": "power",
        "metric": "load",
        "subdistrict": "wujiaochang",
        "sensor": SENSOR,
    }
