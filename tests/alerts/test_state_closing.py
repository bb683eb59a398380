"""Closing an alert whose condition still holds: refused without a confirmation and a note;
confirmed, it stays closed and marked until the condition clears, and the next breach after
that opens a new episode (the state machine's rule; the API and the CLI only pass it on)."""

from __future__ import annotations

import pytest

from alerts.engine.state import acknowledge, close, step
from alerts.errors import AlertActionError, AlertStateError, AlertStillFiring
from alerts.model import Grade, OpsState, Phase
from tests.alerts.stepping import at, firing, fresh, kinds, load_rule, run, value


def test_closing_a_firing_alert_without_confirmation_is_refused_and_says_why() -> None:
    alert = firing(load_rule(), 93)
    with pytest.raises(AlertStillFiring) as caught:
        close(alert, "li", "crew on site", at(1))
    message = str(caught.value)
    assert "it still fires at orange, value 93 at its last change" in message
    assert "confirm_firing" in message
    assert "--confirm-firing" in message
    assert "stays on the duty list" in message
    assert isinstance(caught.value, AlertStateError)  # a 409 like every state refusal
    assert (caught.value.action, caught.value.alert) == ("close", alert)


def test_closing_a_pending_alert_needs_the_confirmation_too() -> None:
    rule = load_rule(hold=5)
    pending, _ = step(rule, fresh(rule), value(85), at(0))
    assert pending.phase is Phase.PENDING
    with pytest.raises(AlertStillFiring, match=r"breaches its rule at yellow \(pending"):
        close(pending, "li", None, at(1))
    closed, transitions = close(pending, "li", "sensor being replaced", at(1), confirm_firing=True)
    assert closed.closed_while_firing
    assert kinds(transitions) == ["closed"]


def test_a_confirmed_close_needs_a_note_naming_the_field() -> None:
    alert = firing(load_rule())
    for note in (None, "", "   "):
        with pytest.raises(AlertActionError, match="needs a note saying why") as caught:
            close(alert, "li", note, at(1), confirm_firing=True)
        assert caught.value.field == "note"


def test_confirmed_it_is_closed_marked_and_audited_with_the_phase_it_fires_in() -> None:
    acked, _ = acknowledge(firing(load_rule(), 93), "wang", "on it", at(1))
    closed, transitions = close(
        acked, "li", "known fault, crew booked for tomorrow", at(2), confirm_firing=True
    )
    assert (closed.ops, closed.closed_at, closed.phase) == (OpsState.CLOSED, at(2), Phase.FIRING)
    assert closed.closed_while_firing
    assert not acked.closed_while_firing
    [line] = transitions
    assert (line.kind, line.actor, line.note) == (
        "closed",
        "li",
        "known fault, crew booked for tomorrow",
    )
    # The audit line itself says it was closed while firing, and at what grade and value.
    assert (line.from_phase, line.to_phase, line.grade, line.value) == (
        Phase.FIRING,
        Phase.FIRING,
        Grade.ORANGE,
        93,
    )


def test_it_stays_closed_while_firing_until_it_resolves_then_a_breach_opens_afresh() -> None:
    rule = load_rule(hold=0, keep=10)
    closed, _ = close(firing(rule, 93), "li", "crew on site", at(1), confirm_firing=True)
    # Still firing at the same or a milder grade: no reopening, no transitions, still marked.
    same, transitions = step(rule, closed, value(94), at(2))
    assert (same, transitions) == (closed, ())
    milder, transitions = run(rule, closed, [(3, value(82)), (14, value(82))])
    assert kinds(transitions) == ["grade_down"]
    assert (milder.grade, milder.ops, milder.closed_while_firing) == (
        Grade.YELLOW,
        OpsState.CLOSED,
        True,
    )
    # The condition clears: resolved, no longer marked (it leaves the duty list).
    resolved, transitions = run(rule, milder, [(15, value(10)), (26, value(10))])
    assert kinds(transitions) == ["resolved"]
    assert (resolved.phase, resolved.ops, resolved.closed_while_firing) == (
        Phase.RESOLVED,
        OpsState.CLOSED,
        False,
    )
    # The next breach is a new episode, open again.
    again, transitions = step(rule, resolved, value(91), at(40))
    assert kinds(transitions) == ["firing"]
    assert (again.ops, again.closed_at, again.closed_while_firing) == (OpsState.OPEN, None, False)


def test_a_resolved_alert_closes_without_confirmation_and_the_confirmation_is_harmless() -> None:
    rule = load_rule(keep=0)
    resolved, _ = step(rule, firing(rule), value(10), at(1))
    assert resolved.phase is Phase.RESOLVED
    plain, _ = close(resolved, "li", None, at(2))
    confirmed, _ = close(resolved, "li", None, at(2), confirm_firing=True)
    assert plain == confirmed
    assert (plain.ops, plain.closed_while_firing) == (OpsState.CLOSED, False)
