"""Stepping the pure state machine through time in tests: a transformer-load rule, explicit
minutes, and the transitions seen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from alerts.engine.state import Observation, Transitions, new_alert, sensor_subject, step
from alerts.model import Alert, Grade, Phase, Transition
from alerts.rules.rule import Condition, ConditionKind, Direction, Rule, Scope, Timing, build_levels

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
