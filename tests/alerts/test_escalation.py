"""Escalation of unacknowledged orange and red alerts, with time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts.model import Alert, Grade, OpsState, Phase, Subject
from alerts.notify.escalation import (
    EscalatePolicy,
    EscalationDecision,
    EscalationLevel,
    EscalationState,
    check_escalation,
    is_acknowledged,
    next_escalation_at,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ONE_LEVEL = EscalatePolicy(levels=(EscalationLevel(15 * 60, "duty-lead"),))
THREE_LEVELS = EscalatePolicy(
    levels=(
        EscalationLevel(10 * 60, "duty-lead"),
        EscalationLevel(30 * 60, "district-chief"),
        EscalationLevel(60 * 60, "mayor-office"),
    )
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fired(grade: Grade = Grade.ORANGE, minute: float = 0) -> Alert:
    return Alert(
        rule_id="default:water_main_pressure:pressure:below",
        subject=Subject("sensor", "yp-wp-0001", "water", "yinhang"),
        phase=Phase.FIRING,
        grade=grade,
        pending_since=at(minute - 2),
        firing_since=at(minute),
        grade_changed_at=at(minute),
    )


def regraded(alert: Alert, grade: Grade, minute: float) -> Alert:
    return replace(alert, grade=grade, grade_changed_at=at(minute))


class Clock:
    """Calls check_escalation tick by tick, keeping the state as the caller would."""

    def __init__(self, policy: EscalatePolicy) -> None:
        self.policy = policy
        self.state: EscalationState | None = None
        self.sent: list[tuple[int, str, datetime]] = []

    def tick(self, alert: Alert, minute: float) -> EscalationDecision:
        decision = check_escalation(alert, self.policy, at(minute), self.state)
        self.state = decision.state
        self.sent.extend((d.level, d.receiver, at(minute)) for d in decision.due)
        return decision


def test_an_unacknowledged_orange_alert_escalates_once_after_n_minutes() -> None:
    clock = Clock(ONE_LEVEL)
    alert = fired(Grade.ORANGE)
    for minute in range(15):
        assert clock.tick(alert, minute).due == ()
    decision = clock.tick(alert, 15)
    assert len(decision.due) == 1
    due = decision.due[0]
    assert (due.level, due.receiver, due.due_at) == (1, "duty-lead", at(15))
    assert due.unacknowledged_for_s == 15 * 60
    assert decision.state == EscalationState(episode=at(0), since=at(0), levels_sent=1)
    for minute in range(16, 120):
        assert clock.tick(alert, minute).due == ()  # exactly once per level
    assert clock.sent == [(1, "duty-lead", at(15))]


def test_red_escalates_too_but_yellow_and_blue_do_not() -> None:
    assert check_escalation(fired(Grade.RED), ONE_LEVEL, at(15)).due
    for grade in (Grade.YELLOW, Grade.BLUE):
        decision = check_escalation(fired(grade), ONE_LEVEL, at(600))
        assert decision.due == ()
        assert decision.state is None
        assert next_escalation_at(fired(grade), ONE_LEVEL, None) is None


def test_policy_grades_choose_what_escalates() -> None:
    red_only = replace(ONE_LEVEL, grades=frozenset({Grade.RED}))
    assert check_escalation(fired(Grade.ORANGE), red_only, at(60)).due == ()
    assert check_escalation(fired(Grade.RED), red_only, at(60)).due


def test_several_levels_each_once() -> None:
    clock = Clock(THREE_LEVELS)
    alert = fired()
    for minute in range(0, 180):
        clock.tick(alert, minute)
    assert clock.sent == [
        (1, "duty-lead", at(10)),
        (2, "district-chief", at(30)),
        (3, "mayor-office", at(60)),
    ]
    assert clock.state is not None
    assert clock.state.levels_sent == 3
    assert next_escalation_at(alert, THREE_LEVELS, clock.state) is None


def test_acknowledging_stops_escalation() -> None:
    clock = Clock(THREE_LEVELS)
    alert = fired()
    for minute in range(0, 20):
        clock.tick(alert, minute)
    assert [level for level, _, _ in clock.sent] == [1]
    acked = replace(
        alert, ops=OpsState.ACKNOWLEDGED, acknowledged_by="wang", acknowledged_at=at(20)
    )
    assert is_acknowledged(acked)
    for minute in range(20, 200):
        assert clock.tick(acked, minute).due == ()
    assert [level for level, _, _ in clock.sent] == [1]
    assert next_escalation_at(acked, THREE_LEVELS, clock.state) is None


def test_assigning_or_closing_stops_it_too() -> None:
    alert = fired()
    for ops in (OpsState.ASSIGNED, OpsState.CLOSED):
        taken = replace(alert, ops=ops)
        assert is_acknowledged(taken)
        assert check_escalation(taken, THREE_LEVELS, at(300)).due == ()
    assert not is_acknowledged(alert)


def test_a_downgrade_pauses_and_an_upgrade_restarts_the_clock_for_remaining_levels() -> None:
    clock = Clock(THREE_LEVELS)
    alert = fired(Grade.ORANGE)
    for minute in range(0, 16):
        clock.tick(alert, minute)
    assert [level for level, _, _ in clock.sent] == [1]
    # Down to yellow at 16: the clock pauses, level 1 stays sent.
    yellow = regraded(alert, Grade.YELLOW, 16)
    for minute in range(16, 100):
        assert clock.tick(yellow, minute).due == ()
    assert clock.state == EscalationState(episode=at(0), since=None, levels_sent=1)
    assert next_escalation_at(yellow, THREE_LEVELS, clock.state) is None
    # Back up to red at 100: level 2 comes 30 minutes after the upgrade, level 1 is not resent.
    red = regraded(yellow, Grade.RED, 100)
    assert next_escalation_at(red, THREE_LEVELS, clock.state) == at(130)
    for minute in range(100, 200):
        clock.tick(red, minute)
    assert clock.sent == [
        (1, "duty-lead", at(10)),
        (2, "district-chief", at(130)),
        (3, "mayor-office", at(160)),
    ]


def test_a_move_between_escalating_grades_keeps_the_clock() -> None:
    clock = Clock(THREE_LEVELS)
    alert = fired(Grade.ORANGE)
    for minute in range(0, 5):
        clock.tick(alert, minute)
    red = regraded(alert, Grade.RED, 5)
    for minute in range(5, 31):
        clock.tick(red, minute)
    assert clock.sent == [(1, "duty-lead", at(10)), (2, "district-chief", at(30))]


def test_the_clock_starts_at_the_upgrade_to_an_escalating_grade() -> None:
    clock = Clock(ONE_LEVEL)
    alert = fired(Grade.YELLOW)
    for minute in range(0, 40):
        assert clock.tick(alert, minute).due == ()
    orange = regraded(alert, Grade.ORANGE, 40)
    for minute in range(40, 55):
        assert clock.tick(orange, minute).due == ()
    assert [d.level for d in clock.tick(orange, 55).due] == [1]


def test_a_new_episode_starts_afresh() -> None:
    clock = Clock(ONE_LEVEL)
    first = fired(minute=0)
    for minute in range(0, 30):
        clock.tick(first, minute)
    assert len(clock.sent) == 1
    resolved = replace(first, phase=Phase.RESOLVED, resolved_at=at(30))
    clock.tick(resolved, 30)
    assert len(clock.sent) == 1
    second = fired(minute=60)  # same fingerprint, a new firing_since
    assert second.fingerprint == first.fingerprint
    for minute in range(60, 75):
        assert clock.tick(second, minute).due == ()
    decision = clock.tick(second, 75)
    assert [(d.level, d.due_at) for d in decision.due] == [(1, at(75))]
    assert decision.state == EscalationState(episode=at(60), since=at(60), levels_sent=1)


def test_an_engine_down_past_several_levels_gets_all_due_at_once() -> None:
    alert = fired()
    early = check_escalation(alert, THREE_LEVELS, at(1))
    assert early.due == ()
    decision = check_escalation(alert, THREE_LEVELS, at(45), early.state)
    assert [(d.level, d.receiver, d.due_at) for d in decision.due] == [
        (1, "duty-lead", at(10)),
        (2, "district-chief", at(30)),
    ]
    assert all(d.unacknowledged_for_s == 45 * 60 for d in decision.due)
    assert decision.state is not None
    assert decision.state.levels_sent == 2
    again = check_escalation(alert, THREE_LEVELS, at(46), decision.state)
    assert again.due == ()
    # Without any stored state (first look after a restart) the same levels come due.
    cold = check_escalation(alert, THREE_LEVELS, at(61))
    assert [d.level for d in cold.due] == [1, 2, 3]


def test_pending_and_resolved_alerts_do_not_escalate() -> None:
    pending = replace(fired(), phase=Phase.PENDING, firing_since=None)
    state = EscalationState(episode=at(0), since=at(0), levels_sent=1)
    decision = check_escalation(pending, THREE_LEVELS, at(300), state)
    assert decision == EscalationDecision(state=state)
    resolved = replace(fired(), phase=Phase.RESOLVED, resolved_at=at(5))
    assert check_escalation(resolved, THREE_LEVELS, at(300), state).due == ()
    assert next_escalation_at(pending, THREE_LEVELS, state) is None
    assert next_escalation_at(resolved, THREE_LEVELS, state) is None


def test_next_escalation_at() -> None:
    alert = fired(minute=0)
    assert next_escalation_at(alert, THREE_LEVELS, None) == at(10)
    sent_one = EscalationState(episode=at(0), since=at(0), levels_sent=1)
    assert next_escalation_at(alert, THREE_LEVELS, sent_one) == at(30)
    # A state from an earlier episode does not count.
    stale = EscalationState(episode=at(-600), since=at(-600), levels_sent=3)
    assert next_escalation_at(alert, THREE_LEVELS, stale) == at(10)
    # Agrees with check_escalation: nothing before, the level exactly then.
    assert check_escalation(alert, THREE_LEVELS, at(29), sent_one).due == ()
    assert [d.level for d in check_escalation(alert, THREE_LEVELS, at(30), sent_one).due] == [2]


def test_a_closed_alert_reopened_by_a_worse_grade_escalates_from_the_reopening() -> None:
    clock = Clock(THREE_LEVELS)
    alert = fired(Grade.ORANGE)
    for minute in range(0, 5):
        clock.tick(alert, minute)
    closed = replace(alert, ops=OpsState.CLOSED, closed_at=at(5))
    for minute in range(5, 50):
        assert clock.tick(closed, minute).due == ()
    # A worse grade reopens it at 50 (state.py): nobody has acknowledged the reopened alert
    # yet, but it was handled until 50, so the clock runs from 50, not from the first fire.
    reopened = replace(regraded(closed, Grade.RED, 50), ops=OpsState.OPEN, closed_at=None)
    assert next_escalation_at(reopened, THREE_LEVELS, clock.state) == at(60)
    assert clock.tick(reopened, 50).due == ()
    for minute in range(51, 120):
        clock.tick(reopened, minute)
    assert clock.sent == [
        (1, "duty-lead", at(60)),
        (2, "district-chief", at(80)),
        (3, "mayor-office", at(110)),
    ]
    waited = check_escalation(reopened, THREE_LEVELS, at(60), EscalationState(at(0), None, 0))
    assert [d.unacknowledged_for_s for d in waited.due] == [600]
