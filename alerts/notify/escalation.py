"""Escalation: an orange or red alert nobody acknowledged goes on to the next receiver.

Pure, with time passed in. The caller keeps one `EscalationState` per alert next to the alert
(in the same transaction as the escalation notifications it enqueues), calls `check_escalation`
on every tick, and stores the state it gets back. Rules:

- the clock starts when the alert reaches an escalating grade (by default orange or red): at
  `firing_since`, or at `grade_changed_at` when it got there by an upgrade;
- each level is sent once per episode (a new `firing_since` starts afresh); if the engine was
  down past several levels, all of them come due together rather than one per tick;
- acknowledging (or assigning, or closing) the alert stops escalation; should a worse grade
  reopen a closed alert (engine/state.py), the clock starts again from the reopening for the
  levels not yet sent, so nobody is told "unacknowledged for an hour" about an alert closed
  minutes ago;
- a downgrade below the escalating grades pauses the clock; levels already sent stay sent, and
  a later upgrade starts the clock for the remaining levels from the upgrade.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from alerts.file_problems import Report
from alerts.model import Alert, Grade, OpsState, Phase
from schemas.durations import Duration

__all__ = [
    "DueEscalation",
    "EscalatePolicy",
    "EscalateSpec",
    "EscalationDecision",
    "EscalationLevel",
    "EscalationState",
    "check_escalation",
    "check_receiver_name",
    "escalate_policy",
    "is_acknowledged",
    "next_escalation_at",
]


@dataclass(frozen=True)
class EscalationLevel:
    after_s: float  # since the alert reached an escalating grade
    to: str  # receiver name


@dataclass(frozen=True)
class EscalatePolicy:
    """A route's `escalate:` block, validated by `receivers.py`."""

    levels: tuple[EscalationLevel, ...]
    grades: frozenset[Grade] = frozenset({Grade.ORANGE, Grade.RED})


class _LevelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    after: Duration
    to: str


class EscalateSpec(BaseModel):
    """A route's `escalate:` as written: `{after, to, grades}` or `{levels: [...], grades}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    after: Duration | None = None
    to: str | None = None
    levels: list[_LevelSpec] | None = None
    grades: list[Grade] = Field(default_factory=lambda: [Grade.ORANGE, Grade.RED], min_length=1)


def check_receiver_name(name: str, key: str, names: Collection[str], report: Report) -> None:
    if name not in names:
        report(key, f"unknown receiver {name!r}; known: {', '.join(sorted(names))}")


def escalate_policy(
    raw: EscalateSpec | None,
    key: str,
    receivers: Collection[str],
    report: Report,
) -> EscalatePolicy | None:
    """The policy for `raw`, reporting (dotted key, message) problems through `report`."""
    if raw is None:
        return None
    if (raw.after is not None or raw.to is not None) and raw.levels is not None:
        report(key, "give after and to, or levels, not both")
        return None
    if raw.levels is not None:
        levels = [(lv.after, lv.to, f"{key}.levels[{j}]") for j, lv in enumerate(raw.levels)]
    elif raw.after is not None and raw.to is not None:
        levels = [(raw.after, raw.to, key)]
    else:
        report(key, "needs after and to (e.g. {after: 15m, to: duty-lead}) or levels")
        return None
    previous = 0.0
    for after, to, where in levels:
        check_receiver_name(to, f"{where}.to", receivers, report)
        if after <= previous:
            report(f"{where}.after", "each level must come later than the one before")
        previous = after
    return EscalatePolicy(
        levels=tuple(EscalationLevel(after_s=a, to=t) for a, t, _ in levels),
        grades=frozenset(raw.grades),
    )


@dataclass(frozen=True)
class EscalationState:
    episode: datetime  # the alert's firing_since this state belongs to
    since: datetime | None  # when it last reached an escalating grade; None while below
    levels_sent: int = 0


@dataclass(frozen=True)
class DueEscalation:
    level: int  # 1 for the first level; use it as the notification's sequence
    receiver: str
    due_at: datetime
    unacknowledged_for_s: float  # for the message: "已 15 分钟未确认"


@dataclass(frozen=True)
class EscalationDecision:
    state: EscalationState | None  # store this; None = nothing to remember
    due: tuple[DueEscalation, ...] = ()


def is_acknowledged(alert: Alert) -> bool:
    """Someone took it: acknowledged, assigned or closed."""
    return alert.ops is not OpsState.OPEN or alert.acknowledged_at is not None


def _current_state(episode: datetime, state: EscalationState | None) -> EscalationState | None:
    if state is not None and state.episode != episode:
        return None  # a new episode: earlier levels were for an earlier fire
    return state


def _started(alert: Alert, episode: datetime, state: EscalationState | None) -> EscalationState:
    if state is not None and state.since is not None:
        return state
    # At the escalating grade since firing, or since the upgrade that brought it there,
    # whichever came later (a grade may also have been set while pending, before firing).
    since = max(episode, alert.grade_changed_at or episode)
    if state is None:
        return EscalationState(episode=episode, since=since)
    return replace(state, since=since)


def check_escalation(
    alert: Alert,
    policy: EscalatePolicy,
    now: datetime,
    state: EscalationState | None = None,
) -> EscalationDecision:
    """The escalations due at `now` for `alert`, and the state to store afterwards.

    The returned state already counts the due levels as sent: enqueue their notifications in
    the same transaction that stores it, and each level goes out exactly once.
    """
    episode = alert.firing_since
    if alert.phase is not Phase.FIRING or episode is None:
        return EscalationDecision(state=state)
    state = _current_state(episode, state)
    if alert.grade not in policy.grades or is_acknowledged(alert):
        # Paused: taken alerts run no clock either, so a reopening restarts it (see above).
        paused = None if state is None else replace(state, since=None)
        return EscalationDecision(state=paused)
    state = _started(alert, episode, state)
    since = state.since
    assert since is not None  # _started always sets it
    due: list[DueEscalation] = []
    for index in range(state.levels_sent, len(policy.levels)):
        level = policy.levels[index]
        due_at = since + timedelta(seconds=level.after_s)
        if now < due_at:
            break
        due.append(
            DueEscalation(
                level=index + 1,
                receiver=level.to,
                due_at=due_at,
                unacknowledged_for_s=(now - since).total_seconds(),
            )
        )
    if not due:
        return EscalationDecision(state=state)
    return EscalationDecision(
        state=replace(state, levels_sent=due[-1].level),
        due=tuple(due),
    )


def next_escalation_at(
    alert: Alert, policy: EscalatePolicy, state: EscalationState | None
) -> datetime | None:
    """When the next level falls due if nothing changes (to set a timer), else None."""
    episode = alert.firing_since
    if alert.phase is not Phase.FIRING or episode is None or is_acknowledged(alert):
        return None
    if alert.grade not in policy.grades:
        return None
    current = _started(alert, episode, _current_state(episode, state))
    if current.since is None or current.levels_sent >= len(policy.levels):
        return None
    return current.since + timedelta(seconds=policy.levels[current.levels_sent].after_s)
