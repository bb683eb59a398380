"""The notification plan, tick by tick: first message, updates at most every group_interval,
repeats, resolution, group_wait, silences, and escalation messages to the next receiver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts.model import Alert, Grade, OpsState, Phase, Subject
from alerts.notify import NotificationKind, NotifyAlert, notify_alert
from alerts.notify.escalation import EscalationState
from alerts.notify.escalation_plan import plan_escalations, states_from_json, states_to_json
from alerts.notify.planning import GroupRecord, NotifyPlan, plan_notifications
from alerts.notify.receivers import Routing, parse_routing

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def routing(extra: str = "") -> Routing:
    return parse_routing(
        "receivers:\n"
        "  - {name: duty, kind: webhook, url: 'http://127.0.0.1:9/duty', secret_env: S}\n"
        "  - {name: lead, kind: webhook, url: 'http://127.0.0.1:9/lead', secret_env: S}\n"
        "default_receiver: duty\nrepeat_interval: 1h\nallow_local_urls: true\n" + extra,
        "receivers.yaml",
        {"S": "s"},
    )


def firing(sensor: str, grade: Grade = Grade.YELLOW, since: datetime = T0) -> NotifyAlert:
    alert = Alert(
        rule_id="low_pressure",
        subject=Subject("sensor", sensor, "water", "yinhang"),
        phase=Phase.FIRING,
        grade=grade,
        value=0.18,
        pending_since=since,
        firing_since=since,
        grade_changed_at=since,
    )
    return notify_alert(alert, what_zh="管网压力", what_en="Pressure", unit="MPa")


def resolved(alert: NotifyAlert, at: datetime) -> NotifyAlert:
    done = replace(alert.alert, phase=Phase.RESOLVED, resolved_at=at)
    return notify_alert(done, what_zh="管网压力", what_en="Pressure", unit="MPa")


class Run:
    """Feeds plans back as the engine does: records kept, settled alerts dropped."""

    def __init__(self, routes: Routing) -> None:
        self.routing = routes
        self.records: dict[str, GroupRecord] = {}
        self.sent: list[tuple[datetime, NotificationKind, int]] = []

    def tick(
        self, alerts: Iterable[NotifyAlert], now: datetime, muted: set[str] | None = None
    ) -> NotifyPlan:
        plan = plan_notifications(
            self.routing,
            alerts,
            self.records,
            now,
            silenced=lambda a: a.alert.subject.id in (muted or set()),
        )
        for key in plan.forgotten:
            self.records.pop(key, None)
        self.records.update(plan.records)
        self.sent += [(now, n.kind, n.alert_count) for n in plan.notifications]
        return plan


def test_first_message_at_once_then_updates_at_most_every_group_interval() -> None:
    run = Run(routing())
    a, b, c = firing("wp-1"), firing("wp-2"), firing("wp-3")
    run.tick([a], T0)
    run.tick([a, b], T0 + timedelta(seconds=10))  # joins: held until group_interval
    run.tick([a, b, c], T0 + timedelta(seconds=30))
    run.tick([a, b, c], T0 + MINUTE)
    run.tick([a, b, c], T0 + 2 * MINUTE)  # nothing new: nothing sent
    assert run.sent == [(T0, NotificationKind.FIRING, 1), (T0 + MINUTE, NotificationKind.FIRING, 3)]


def test_group_wait_collects_a_burst_into_one_first_message() -> None:
    run = Run(routing("group_wait: 30s\n"))
    burst = [firing(f"wp-{n}") for n in range(200)]
    for second in range(0, 40, 5):  # the burst trickles in over 25 s
        run.tick(burst[: min(200, (second + 5) * 8)], T0 + timedelta(seconds=second))
    assert run.sent == [(T0 + timedelta(seconds=30), NotificationKind.FIRING, 200)]


def test_repeat_after_repeat_interval_and_keys_differ() -> None:
    run = Run(routing())
    a = firing("wp-1")
    keys = set()
    for minute in range(0, 130, 10):
        plan = run.tick([a], T0 + minute * MINUTE)
        keys |= {n.idempotency_key for n in plan.notifications}
    kinds = [(t - T0, kind) for t, kind, _ in run.sent]
    assert kinds == [
        (timedelta(0), NotificationKind.FIRING),
        (timedelta(hours=1), NotificationKind.REPEAT),
        (timedelta(hours=2), NotificationKind.REPEAT),
    ]
    assert len(keys) == 3


def test_resolution_is_announced_once_and_the_group_forgotten() -> None:
    run = Run(routing())
    a = firing("wp-1")
    run.tick([a], T0)
    gone = resolved(a, T0 + 5 * MINUTE)
    plan = run.tick([gone], T0 + 5 * MINUTE)
    assert [n.kind for n in plan.notifications] == [NotificationKind.RESOLVED]
    assert plan.settled == {a.fingerprint}
    assert run.records == {}
    assert run.tick([], T0 + 6 * MINUTE).notifications == []


def test_resolved_before_anyone_was_told_says_nothing() -> None:
    run = Run(routing("group_wait: 1m\n"))
    a = firing("wp-1")
    run.tick([a], T0)
    plan = run.tick([resolved(a, T0 + 20 * timedelta(seconds=1))], T0 + 20 * timedelta(seconds=1))
    assert plan.notifications == []
    assert plan.settled == {a.fingerprint}
    assert run.sent == []


def test_a_silenced_group_is_neither_announced_nor_resolved() -> None:
    run = Run(routing())
    a = firing("wp-1")
    run.tick([a], T0)
    plan = run.tick([a], T0 + 2 * MINUTE, muted={"wp-1"})
    assert plan.notifications == []
    assert run.records  # still remembered: the alert did not resolve
    run.tick([a], T0 + 3 * MINUTE)  # silence over, nothing changed: no message
    assert [kind for _, kind, _ in run.sent] == [NotificationKind.FIRING]


def test_receivers_that_do_not_want_resolved_messages_get_none() -> None:
    routes = parse_routing(
        "receivers: [{name: duty, kind: webhook, url: 'http://127.0.0.1:9/', secret_env: S, "
        "send_resolved: false}]\ndefault_receiver: duty\nallow_local_urls: true\n",
        "r.yaml",
        {"S": "s"},
    )
    run = Run(routes)
    a = firing("wp-1")
    run.tick([a], T0)
    run.tick([resolved(a, T0 + 5 * MINUTE)], T0 + 5 * MINUTE)
    assert [kind for _, kind, _ in run.sent] == [NotificationKind.FIRING]
    assert run.records == {}


ESCALATING = """
routes:
  - receiver: duty
    escalate: {levels: [{after: 10m, to: lead}, {after: 30m, to: duty}]}
"""


def _escalate(
    alerts: list[NotifyAlert], states: Mapping[str, Mapping[str, EscalationState]], now: datetime
) -> tuple[list[tuple[str, int]], dict[str, dict[str, EscalationState]]]:
    plan = plan_escalations(routing(ESCALATING), alerts, states, now)
    merged = {fp: dict(s) for fp, s in states.items()}
    merged.update(plan.states)
    return [(n.receiver, n.sequence) for n in plan.notifications], merged


def test_escalation_levels_go_out_once_each_and_stop_when_acknowledged() -> None:
    red = firing("wp-1", Grade.RED)
    states: dict[str, dict[str, EscalationState]] = {}
    sent: list[tuple[str, int]] = []
    for minute in range(0, 45, 5):
        due, states = _escalate([red], states, T0 + minute * MINUTE)
        sent += due
    assert sent == [("lead", 1), ("duty", 2)]
    # Stored as JSON on the alert row and read back the same.
    fp = red.fingerprint
    assert states_from_json(states_to_json(states[fp])) == states[fp]

    other = firing("wp-2", Grade.ORANGE)
    taken = replace(other.alert, ops=OpsState.ACKNOWLEDGED, acknowledged_at=T0 + MINUTE)
    acknowledged = notify_alert(taken, what_zh="管网压力", what_en="Pressure")
    states = {}
    for minute in range(0, 45, 5):
        due, states = _escalate([acknowledged], states, T0 + minute * MINUTE)
        assert due == []


def test_yellow_alerts_do_not_escalate_by_default() -> None:
    states: dict[str, dict[str, EscalationState]] = {}
    for minute in range(0, 45, 5):
        due, states = _escalate([firing("wp-1", Grade.YELLOW)], states, T0 + minute * MINUTE)
        assert due == []
