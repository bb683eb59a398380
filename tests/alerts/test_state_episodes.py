"""Episodes and the ops lifecycle (acknowledge, assign, close, notes) of the state machine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alerts.engine.state import (
    acknowledge,
    add_note,
    assign,
    close,
    new_alert,
    step,
)
from alerts.errors import AlertActionError, AlertStateError
from alerts.model import Grade, OpsState, Phase, Subject
from tests.alerts.stepping import SENSOR, at, firing, fresh, kinds, load_rule, run, value

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
    alert, _ = close(alert, "li", "crew on site", at(1), confirm_firing=True)
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
    alert, _ = close(firing(rule, 85), "li", "pump on", at(1), confirm_firing=True)
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
    closed, transitions = close(alert, "li", "pump repaired", at(1), confirm_firing=True)
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
    rule = load_rule(keep=0)
    acked, _ = acknowledge(firing(rule), "wang", "checking", at(1))
    resolved, _ = step(rule, acked, value(10), at(2))
    closed, _ = close(resolved, "wang", None, at(3))
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
