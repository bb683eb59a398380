"""Which messages a tick sends: groups, their timers, repeats and resolutions (pure).

Alertmanager's dispatcher and notification log in one function. Each route groups the alerts it
takes; each group remembers (a `GroupRecord`, stored in `notification_groups`) what its last
message said and when. On every tick a group with firing alerts

- sends its first message once `group_wait` has passed since it appeared;
- sends an update when its firing set or worst grade changed, or some of its alerts resolved,
  at most once per `group_interval`;
- repeats itself after `repeat_interval` without change;

and a group whose alerts have all resolved sends one resolved message (if the receiver wants
them) and is forgotten. Silenced alerts are left out of messages; a group whose firing alerts are
all silenced says nothing at all (it is not resolved). Every message is a `Notification` with an
idempotency key that differs per episode, kind and sequence, so the outbox can store it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.model import Grade
from alerts.notify import Notification, NotificationKind, NotifyAlert
from alerts.notify.delivery import build_notification
from alerts.notify.grouping import AlertGroup
from alerts.notify.receivers import Route, Routing

__all__ = ["GroupRecord", "NotifyPlan", "plan_notifications"]


@dataclass(frozen=True)
class GroupRecord:
    group_key: str
    receiver: str
    episode_start: datetime
    first_seen_at: datetime
    last_sent_at: datetime | None = None
    grade: Grade | None = None
    firing: frozenset[str] = frozenset()
    updates: int = 0
    repeats: int = 0


@dataclass
class NotifyPlan:
    notifications: list[Notification] = field(default_factory=list)
    records: dict[str, GroupRecord] = field(default_factory=dict)  # upsert these
    forgotten: set[str] = field(default_factory=set)  # delete these group keys
    settled: set[str] = field(default_factory=set)  # resolved fingerprints no group still needs


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def plan_notifications(
    routing: Routing,
    alerts: Iterable[NotifyAlert],
    records: Mapping[str, GroupRecord],
    now: datetime,
    *,
    silenced: Callable[[NotifyAlert], bool] = lambda alert: False,
    external_url: str = "",
) -> NotifyPlan:
    """`alerts`: every firing alert and every resolved one not yet settled."""
    plan = NotifyPlan()
    pool = list(alerts)
    audible = [a for a in pool if not silenced(a)]
    muted_groups = {group.key for _, group in routing.dispatch(a for a in pool if silenced(a))}
    waiting: set[str] = set()  # resolved fingerprints a group still has to announce
    present: set[str] = set()
    for route, group in routing.dispatch(audible):
        present.add(group.key)
        record = records.get(group.key)
        muted = group.key in muted_groups
        if _plan_group(routing, route, group, record, muted, now, plan, external_url):
            waiting.update(a.fingerprint for a in group.alerts if not a.firing)
    for key in records.keys() - present:
        if key not in muted_groups:
            plan.forgotten.add(key)  # its alerts left without resolving (e.g. a removed rule)
    plan.settled = {a.fingerprint for a in pool if not a.firing} - waiting
    return plan


def _plan_group(
    routing: Routing,
    route: Route,
    group: AlertGroup,
    record: GroupRecord | None,
    muted: bool,
    now: datetime,
    plan: NotifyPlan,
    external_url: str,
) -> bool:
    """Decide for one group; True while its resolved alerts still wait for a message.
    `muted`: the group also has silenced firing alerts, so an empty firing set is no end."""
    receiver = routing.receivers.get(route.receiver)
    firing = frozenset(a.fingerprint for a in group.firing)
    if record is None:
        if not firing:
            return False  # resolved before anyone was told: nothing to say
        record = GroupRecord(
            group_key=group.key,
            receiver=route.receiver,
            episode_start=group.episode_start or now,
            first_seen_at=now,
        )
        plan.records[group.key] = record

    def send(kind: NotificationKind, sequence: int, updated: GroupRecord) -> None:
        if receiver is not None and (
            kind is not NotificationKind.RESOLVED or receiver.send_resolved
        ):
            plan.notifications.append(
                build_notification(
                    group,
                    receiver,
                    kind,
                    now,
                    sequence=sequence,
                    external_url=external_url,
                    episode_start=record.episode_start,
                )
            )
        plan.records[group.key] = updated

    if not firing:
        if muted:
            return True
        if record.last_sent_at is None:
            plan.forgotten.add(group.key)
            plan.records.pop(group.key, None)
            return False
        if now < record.last_sent_at + _seconds(route.group_interval_s):
            return True
        send(NotificationKind.RESOLVED, 0, record)
        plan.records.pop(group.key, None)
        plan.forgotten.add(group.key)
        return False
    grade = group.grade
    if record.last_sent_at is None:
        if now < record.first_seen_at + _seconds(route.group_wait_s):
            return True
        sent = replace(record, last_sent_at=now, grade=grade, firing=firing, updates=1)
        send(NotificationKind.FIRING, 0, sent)
        return False
    changed = (
        firing != record.firing or grade is not record.grade or len(firing) < len(group.alerts)
    )
    if changed:
        if now < record.last_sent_at + _seconds(route.group_interval_s):
            return True
        sent = replace(
            record, last_sent_at=now, grade=grade, firing=firing, updates=record.updates + 1
        )
        send(NotificationKind.FIRING, record.updates, sent)
        return False
    if now >= record.last_sent_at + _seconds(route.repeat_interval_s):
        sent = replace(record, last_sent_at=now, repeats=record.repeats + 1)
        send(NotificationKind.REPEAT, record.repeats + 1, sent)
    return False
