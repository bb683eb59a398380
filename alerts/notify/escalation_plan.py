"""Escalation messages of one tick: which unacknowledged alerts go on to the next receiver.

Applies `escalation.check_escalation` to every firing, unsilenced alert on every route of it that
has an `escalate:` block, and groups what falls due at the same level as the route groups its
messages. The per-alert states it returns are stored on the alert row (`alerts.escalation`) in
the same transaction as the messages, so each level is sent once even across restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.notify import Notification, NotificationKind, NotifyAlert
from alerts.notify.delivery import build_notification
from alerts.notify.escalation import DueEscalation, EscalationState, check_escalation
from alerts.notify.grouping import group_alerts
from alerts.notify.receivers import Route, Routing

__all__ = ["EscalationPlan", "plan_escalations", "states_from_json", "states_to_json"]

States = Mapping[str, EscalationState]  # route key -> state, for one alert


@dataclass
class EscalationPlan:
    notifications: list[Notification] = field(default_factory=list)
    states: dict[str, dict[str, EscalationState]] = field(default_factory=dict)  # changed only


def plan_escalations(
    routing: Routing,
    alerts: Iterable[NotifyAlert],
    states: Mapping[str, States],
    now: datetime,
    *,
    silenced: Callable[[NotifyAlert], bool] = lambda alert: False,
    external_url: str = "",
) -> EscalationPlan:
    plan = EscalationPlan()
    due: dict[tuple[str, int, str], list[tuple[NotifyAlert, DueEscalation]]] = {}
    routes: dict[str, Route] = {}
    for alert in alerts:
        if not alert.firing or silenced(alert):
            continue
        mine = states.get(alert.fingerprint, {})
        for route in routing.routes_for(alert.labels):
            if route.escalate is None:
                continue
            routes[route.key] = route
            before = mine.get(route.key)
            decision = check_escalation(alert.alert, route.escalate, now, before)
            if decision.state != before:
                updated = plan.states.setdefault(alert.fingerprint, dict(mine))
                if decision.state is None:
                    updated.pop(route.key, None)
                else:
                    updated[route.key] = decision.state
            for item in decision.due:
                due.setdefault((route.key, item.level, item.receiver), []).append((alert, item))
    for (route_key, level, receiver_name), items in sorted(due.items()):
        receiver = routing.receivers.get(receiver_name)
        if receiver is None:
            continue
        route = routes[route_key]
        waited = {a.fingerprint: d.unacknowledged_for_s for a, d in items}
        members = [a for a, _ in items]
        for group in group_alerts(members, route.group_by, f"{route_key}/escalation/{level}"):
            plan.notifications.append(
                build_notification(
                    group,
                    receiver,
                    NotificationKind.ESCALATION,
                    now,
                    sequence=level,
                    external_url=external_url,
                    unacknowledged_for_s=max(waited[a.fingerprint] for a in group.alerts),
                )
            )
    return plan


def states_to_json(states: States) -> dict[str, Any]:
    return {
        key: {
            "episode": s.episode.isoformat(),
            "since": None if s.since is None else s.since.isoformat(),
            "levels_sent": s.levels_sent,
        }
        for key, s in states.items()
    }


def states_from_json(raw: Mapping[str, Any]) -> dict[str, EscalationState]:
    return {
        key: EscalationState(
            episode=datetime.fromisoformat(value["episode"]),
            since=None if value["since"] is None else datetime.fromisoformat(value["since"]),
            levels_sent=int(value["levels_sent"]),
        )
        for key, value in raw.items()
    }
