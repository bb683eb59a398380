"""The pure alert state machine: (rule, alert, observation, now) -> (alert, transitions).

Modelled on Prometheus' `rules/alerting.go`, with what an ops centre adds on top:

- inactive/resolved -> pending when any grade is met; pending -> firing once the condition held
  for `hold` (hold 0 fires at once). While pending the grade follows the value.
- The condition "holds" with hysteresis (see rules/rule.py): once a grade is reached it stays
  until the value goes strictly past that grade's recovery level, in pending as in firing.
- Firing: a worse grade applies at once (`grade_up`): escalation must not wait. A milder grade or
  a clear condition has to last `keep_firing_for` (counted from `Alert.clearing_since`) before the
  alert steps down (`grade_down`) or resolves, so one-minute dips change nothing.
- A new breach of a resolved (or closed) alert opens a new episode: same fingerprint, fresh
  timers, ops lifecycle back to open.
- Scheduled thresholds (night, weekend): the evaluator passes the condition in force at `now`;
  a change of schedule is a change of levels like any other, judged with the same hysteresis,
  hold and keep_firing_for (a day alert at 58 dB(A) stays at night, maybe graded up).
- No data (value None, last_seen None) changes nothing: "unknown" is not evidence either way. A
  silent sensor is the absence rule's business, not a reason to resolve its pressure alert.
- `Alert.value` is the value at the alert's last change (what a notification quotes), not a live
  reading: so a steady alert is the same object tick after tick and nothing needs persisting.

The common path (quiet alert, condition false) is one or two comparisons and allocates nothing:
it returns the very same Alert and the shared NO_TRANSITIONS tuple. The ops lifecycle
(acknowledge, assign, close, add_note) lives here too, so every transition has one author.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.errors import AlertActionError, AlertStateError, AlertStillFiring
from alerts.model import CONDITION_HOLDS, Alert, Grade, OpsState, Phase, Subject, Transition
from alerts.rules.rule import ZERO, Condition, ConditionKind, Rule, SubjectKind
from schemas.grades import GRADE_RANK, GRADES_BY_SEVERITY, NO_GRADE, grade_rank

Transitions = tuple[Transition, ...]
NO_TRANSITIONS: Transitions = ()


@dataclass(frozen=True, slots=True)
class Observation:
    """What the evaluator saw for one subject at `now`; None means "no data"."""

    value: float | None = None  # latest, window aggregate or vital-sign aggregate, as the rule says
    last_seen: datetime | None = None  # time of the subject's last reading (absence rules)
    rate_per_min: float | None = None  # rate_of_change rules: change per minute
    unchanged_for: timedelta | None = None  # flatline rules: how long the value has not moved


NO_DATA = Observation()


def new_alert(rule: Rule, subject: Subject) -> Alert:
    """The inactive alert a rule starts with for a subject, labelled for silences and routes."""
    return Alert(rule_id=rule.id, subject=subject, labels=rule.labels(subject))


def sensor_subject(rule: Rule, sensor_id: str, subdistrict: str) -> Subject:
    return Subject(SubjectKind.SENSOR.value, sensor_id, rule.domain, subdistrict)


def step(
    rule: Rule,
    alert: Alert,
    observation: Observation,
    now: datetime,
    condition: Condition | None = None,
) -> tuple[Alert, Transitions]:
    """Advance `alert` under `rule` by one evaluation; pure, with time passed in. `condition`:
    the one in force now when the rule has schedules (`Rule.condition_at`), else the rule's."""
    cond = rule.condition if condition is None else condition
    kind = cond.kind
    phase = alert.phase
    quiet = phase is Phase.INACTIVE or phase is Phase.RESOLVED
    if kind is ConditionKind.ABSENCE:
        seen = observation.last_seen
        if seen is None or cond.silence is None or cond.grade is None:
            return alert, NO_TRANSITIONS
        breached = now - seen >= cond.silence
        if quiet and not breached:
            return alert, NO_TRANSITIONS
        rank = GRADE_RANK[cond.grade] if breached else NO_GRADE
        return _advance(rule, alert, rank, observation.value, now)
    if kind is ConditionKind.FLATLINE:
        flat = observation.unchanged_for
        if flat is None or cond.unchanged_for is None or cond.grade is None:
            return alert, NO_TRANSITIONS
        breached = flat >= cond.unchanged_for
        if quiet and not breached:
            return alert, NO_TRANSITIONS
        rank = GRADE_RANK[cond.grade] if breached else NO_GRADE
        return _advance(rule, alert, rank, observation.value, now)
    if kind is ConditionKind.STATE_IN:
        state = observation.value
        if state is None or cond.states is None or cond.grade is None:
            return alert, NO_TRANSITIONS
        breached = state in cond.states
        if quiet and not breached:
            return alert, NO_TRANSITIONS
        rank = GRADE_RANK[cond.grade] if breached else NO_GRADE
        return _advance(rule, alert, rank, state, now)
    value = observation.rate_per_min if kind is ConditionKind.RATE_OF_CHANGE else observation.value
    if value is None:
        return alert, NO_TRANSITIONS
    if quiet:
        if cond.floor < value < cond.ceiling:
            return alert, NO_TRANSITIONS  # the common path
        held = NO_GRADE  # a new episode starts from the firing levels, not the recovery levels
    else:
        held = grade_rank(alert.grade)
    held_above = held_below = held
    if held >= 0 and cond.above is not None and cond.below is not None and alert.value is not None:
        # Two-sided: only the side the alert is on holds its grade (its value at the last change
        # tells which). A swing from too high into the low side's recovery band is an ordinary
        # value, not "still too high".
        if alert.value >= (cond.ceiling + cond.floor) / 2:
            held_below = NO_GRADE
        else:
            held_above = NO_GRADE
    rank = NO_GRADE
    if cond.above is not None:
        rank = cond.above.grade(value, held_above)
    if cond.below is not None:
        rank = max(rank, cond.below.grade(value, held_below))
    return _advance(rule, alert, rank, value, now)


def _advance(
    rule: Rule, alert: Alert, rank: int, value: float | None, now: datetime
) -> tuple[Alert, Transitions]:
    """`rank`: the grade (index in GRADES_BY_SEVERITY) the condition gives now; NO_GRADE: clear."""
    phase = alert.phase
    if phase is Phase.FIRING:
        return _firing(rule, alert, rank, value, now)
    if phase is Phase.PENDING:
        return _pending(rule, alert, rank, value, now)
    if rank < 0:
        return alert, NO_TRANSITIONS
    # A new episode: fresh timers and a fresh ops lifecycle, same fingerprint.
    grade = GRADES_BY_SEVERITY[rank]
    if rule.timing.hold <= ZERO:
        fired = Alert(
            rule_id=alert.rule_id,
            subject=alert.subject,
            phase=Phase.FIRING,
            grade=grade,
            value=value,
            pending_since=now,
            firing_since=now,
            grade_changed_at=now,
            labels=alert.labels,
        )
        return fired, (_transition(fired, now, "firing", phase, None),)
    pending = Alert(
        rule_id=alert.rule_id,
        subject=alert.subject,
        phase=Phase.PENDING,
        grade=grade,
        value=value,
        pending_since=now,
        labels=alert.labels,
    )
    return pending, (_transition(pending, now, "pending", phase, None),)


def _pending(
    rule: Rule, alert: Alert, rank: int, value: float | None, now: datetime
) -> tuple[Alert, Transitions]:
    if rank < 0:
        # Cleared before the hold was over: back to a blank inactive alert. The audit line is
        # kept (why did it not fire?) but it is no notification.
        cleared = Alert(rule_id=alert.rule_id, subject=alert.subject, labels=alert.labels)
        audit = Transition(
            fingerprint=alert.fingerprint,
            at=now,
            kind="pending_cleared",
            from_phase=Phase.PENDING,
            to_phase=Phase.INACTIVE,
            grade=None,
            previous_grade=alert.grade,
            value=value,
        )
        return cleared, (audit,)
    grade = GRADES_BY_SEVERITY[rank]
    since = alert.pending_since or now
    if now - since >= rule.timing.hold:
        fired = replace(
            alert,
            phase=Phase.FIRING,
            grade=grade,
            value=value,
            firing_since=now,
            grade_changed_at=now,
        )
        return fired, (_transition(fired, now, "firing", Phase.PENDING, None),)
    if grade is not alert.grade:
        return replace(alert, grade=grade, value=value), NO_TRANSITIONS
    return alert, NO_TRANSITIONS


def _firing(
    rule: Rule, alert: Alert, rank: int, value: float | None, now: datetime
) -> tuple[Alert, Transitions]:
    current = grade_rank(alert.grade)
    if rank > current:
        return _regrade(alert, GRADES_BY_SEVERITY[rank], value, now, "grade_up")
    if rank == current:
        if alert.clearing_since is None:
            return alert, NO_TRANSITIONS
        return replace(alert, clearing_since=None), NO_TRANSITIONS  # the dip is over
    # Milder grade or clear: only once that has lasted keep_firing_for.
    since = alert.clearing_since
    keep = rule.timing.keep_firing_for
    if since is None:
        if keep > ZERO:
            return replace(alert, clearing_since=now), NO_TRANSITIONS
        since = now
    if now - since < keep:
        return alert, NO_TRANSITIONS
    if rank >= 0:
        return _regrade(alert, GRADES_BY_SEVERITY[rank], value, now, "grade_down")
    # Resolved keeps its last grade: the resolved notification says what has ended.
    resolved = replace(
        alert, phase=Phase.RESOLVED, value=value, resolved_at=now, clearing_since=None
    )
    return resolved, (_transition(resolved, now, "resolved", Phase.FIRING, alert.grade),)


def _regrade(
    alert: Alert, grade: Grade, value: float | None, now: datetime, kind: str
) -> tuple[Alert, Transitions]:
    changed = replace(alert, grade=grade, value=value, grade_changed_at=now, clearing_since=None)
    moved = _transition(changed, now, kind, Phase.FIRING, alert.grade)
    if kind != "grade_up" or alert.ops is not OpsState.CLOSED:
        return changed, (moved,)
    # Ops closed it at a milder grade; a worse situation is news and needs a fresh
    # acknowledgement (and escalation if nobody gives one).
    reopened = replace(
        changed,
        ops=OpsState.OPEN,
        closed_at=None,
        acknowledged_by=None,
        acknowledged_at=None,
        assignee=None,
    )
    note = f"grade rose from {_name(alert.grade)} to {grade.value} after the alert was closed"
    return reopened, (moved, _ops_transition(reopened, now, "reopened", None, note))


# --- the ops lifecycle (闭环处置) --------------------------------------------------------------


def acknowledge(
    alert: Alert, by: str, note: str | None, now: datetime
) -> tuple[Alert, Transitions]:
    """Someone has seen it; stops escalation. The same person twice is a no-op (double click)."""
    _check_open(alert, "acknowledge", by)
    if alert.acknowledged_by is not None:
        if alert.acknowledged_by == by:
            return alert, NO_TRANSITIONS
        raise AlertStateError(
            alert,
            "acknowledge",
            f"already acknowledged by {alert.acknowledged_by!r} at {alert.acknowledged_at}",
        )
    updated = replace(
        alert,
        ops=OpsState.ACKNOWLEDGED,
        acknowledged_by=by,
        acknowledged_at=now,
        note=note or alert.note,
    )
    return updated, (_ops_transition(updated, now, "acknowledged", by, note),)


def assign(alert: Alert, to: str, by: str, now: datetime) -> tuple[Alert, Transitions]:
    """Dispatch to a person or crew (派单). Dispatching counts as acknowledging it."""
    _check_open(alert, "assign", by)
    if not to.strip():
        raise AlertActionError("assign needs someone to assign to (to= is empty)")
    if alert.ops is OpsState.ASSIGNED and alert.assignee == to:
        return alert, NO_TRANSITIONS
    transitions: list[Transition] = []
    updated = alert
    if alert.acknowledged_by is None:
        updated = replace(updated, acknowledged_by=by, acknowledged_at=now)
        transitions.append(_ops_transition(updated, now, "acknowledged", by, "by assigning"))
    updated = replace(updated, ops=OpsState.ASSIGNED, assignee=to)
    was = f" (was {alert.assignee})" if alert.assignee else ""
    transitions.append(_ops_transition(updated, now, "assigned", by, f"to {to}{was}"))
    return updated, tuple(transitions)


def close(
    alert: Alert, by: str, note: str | None, now: datetime, *, confirm_firing: bool = False
) -> tuple[Alert, Transitions]:
    """Ops are done with it. While its condition still holds (pending or firing) that needs
    `confirm_firing` and a note saying why: a duty officer closing a red alert by mistake must
    not make it vanish. Confirmed, it is closed (escalation stops) but stays on the
    duty list marked `closed_while_firing` until the condition clears; it is not reopened
    at once (that would undo the officer's decision and page everyone again). A worse grade
    before it clears reopens it; the next breach after it resolves opens a new episode."""
    _check_open(alert, "close", by)
    if alert.phase in CONDITION_HOLDS:
        if not confirm_firing:
            raise AlertStillFiring(alert, "close", _still_firing(alert))
        if note is None or not note.strip():
            raise AlertActionError(
                f"closing alert {alert.fingerprint} while it still {_fires(alert)} needs a note "
                "saying why (note is empty)",
                field="note",
            )
    updated = replace(alert, ops=OpsState.CLOSED, closed_at=now, note=note or alert.note)
    return updated, (_ops_transition(updated, now, "closed", by, note),)


def _fires(alert: Alert) -> str:
    grade = _name(alert.grade)
    if alert.phase is Phase.PENDING:
        return f"breaches its rule at {grade} (pending, not yet firing)"
    return f"fires at {grade}"


def _still_firing(alert: Alert) -> str:
    value = "" if alert.value is None else f", value {alert.value:g} at its last change"
    since = alert.firing_since or alert.pending_since
    easing = ""
    if alert.clearing_since is not None:
        easing = ", easing (its value is back, keep-firing time running)"
    return (
        f"it still {_fires(alert)}{value}, since {since}{easing}; to close it anyway, confirm "
        "that it still fires and give a note saying why (API: confirm_firing true and note; "
        "CLI: --confirm-firing --note); it then stays on the duty list, marked closed while "
        "firing, until the condition clears"
    )


def add_note(alert: Alert, by: str, note: str, now: datetime) -> tuple[Alert, Transitions]:
    """A remark for the audit trail; allowed on closed alerts too (the write-up comes later)."""
    _check_actor("add a note to", by)
    if not note.strip():
        raise AlertActionError("a note needs some text")
    if alert.phase is Phase.INACTIVE:
        raise AlertStateError(alert, "add a note to", "it is inactive: there is no episode")
    updated = replace(alert, note=note)
    return updated, (_ops_transition(updated, now, "note", by, note),)


def _check_open(alert: Alert, action: str, by: str) -> None:
    _check_actor(action, by)
    if alert.phase is Phase.INACTIVE:
        raise AlertStateError(
            alert, action, "it is inactive: only pending, firing or resolved alerts can be handled"
        )
    if alert.ops is OpsState.CLOSED:
        raise AlertStateError(
            alert, action, f"it was closed at {alert.closed_at}; a new breach opens a new episode"
        )


def _check_actor(action: str, by: str) -> None:
    if not by.strip():
        raise AlertActionError(f"{action} needs the name of who does it (by= is empty)")


def _transition(
    alert: Alert, now: datetime, kind: str, from_phase: Phase, previous: Grade | None
) -> Transition:
    return Transition(
        fingerprint=alert.fingerprint,
        at=now,
        kind=kind,
        from_phase=from_phase,
        to_phase=alert.phase,
        grade=alert.grade,
        previous_grade=previous,
        value=alert.value,
    )


def _ops_transition(
    alert: Alert, now: datetime, kind: str, actor: str | None, note: str | None
) -> Transition:
    return Transition(
        fingerprint=alert.fingerprint,
        at=now,
        kind=kind,
        from_phase=alert.phase,
        to_phase=alert.phase,
        grade=alert.grade,
        previous_grade=alert.grade,
        value=alert.value,
        actor=actor,
        note=note,
    )


def _name(grade: Grade | None) -> str:
    return "none" if grade is None else grade.value
