"""The notification side of the alert engine: what a message says, to whom, signed how.

Modelled on Alertmanager: alerts carry labels, routes pick receivers by label, alerts are grouped
by some labels (per subdistrict and rule by default) so a burst of 200 sensors is one message, and
each receiver kind renders the group its own way:

    webhook   Alertmanager webhook v4 JSON (`alertmanager.py`), so existing receivers work
    wecom     WeCom group robot markdown        } `robots.py`
    dingtalk  DingTalk robot markdown, signed   }
    feishu    Feishu bot card or text, signed   }

    planning.py        which messages a tick sends: groups, their timers, repeats, resolutions
    receivers.py       receivers and routes, from the receivers file
    escalation*.py     unacknowledged orange and red alerts on to the next receiver
    silences.py        matchers and a time window: whose messages are held back
    grouping.py, text.py, alertmanager.py, robots.py   what a message says, per receiver kind
    signing.py, delivery.py, receiving.py              signed requests, one attempt, the far end

Pure but for reading the receivers file and sending HTTP: no database (the store keeps the
outbox and the notification log), no rules (the engine's `describe` hands over a `NotifyAlert`).

This module holds the shared vocabulary: the label set of an alert (`notify_alert`), the severity
each grade maps to, and the `Notification` record the outbox stores and `delivery.deliver` sends.
It imports no sibling module, so every sibling can import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from alerts.model import Alert, Grade, Phase

__all__ = [
    "SEVERITY_BY_GRADE",
    "Notification",
    "NotificationKind",
    "NotifyAlert",
    "notify_alert",
]

# Alertmanager receivers route on a `severity` label and most understand PagerDuty's Events v2
# set (critical / error / warning / info), so orange maps to `error` rather than an invented
# `major` that PagerDuty and Opsgenie integrations would not recognise. `grade` stays as well:
# it is the ops centre's own word and the one our routes match on.
SEVERITY_BY_GRADE: Mapping[Grade, str] = {
    Grade.BLUE: "info",
    Grade.YELLOW: "warning",
    Grade.ORANGE: "error",
    Grade.RED: "critical",
}


_GRADE_VALUES = frozenset(g.value for g in Grade)


class NotificationKind(StrEnum):
    FIRING = "firing"  # first message of a group's episode, and again on each grade change
    REPEAT = "repeat"  # still firing after the route's repeat_interval
    ESCALATION = "escalation"  # orange/red not acknowledged in time: to the next receiver
    RESOLVED = "resolved"


@dataclass(frozen=True)
class NotifyAlert:
    """One alert as a notification shows it: the alert, its labels, and words for people.

    The alert engine knows the rule's thresholds and the sensor type's names and unit; this record
    carries them so the notification side needs neither the registry nor the rules.
    """

    alert: Alert
    labels: Mapping[str, str]
    what_zh: str  # e.g. "供水管网压力"
    what_en: str  # e.g. "Water main pressure"
    unit: str = ""
    threshold: float | None = None
    direction: str | None = None  # "above" | "below": the side of the threshold that alarms
    generator_url: str = ""
    # Easing: firing, but the value is back past the recovery level and keep_firing_for runs.
    # When the alert stands down if the value holds; None while it is not easing.
    stands_down_at: datetime | None = None
    # Standing down may be a step down to a milder grade of the rule rather than resolving (the
    # value may have eased to that grade only): the texts then say "steps down or resolves".
    may_step_down: bool = False
    # An enumerated state metric's names, (zh, en) per stored index: the value is shown by its
    # name ("故障 / Fault"), never as a number. () for every other metric.
    states: tuple[tuple[str, str], ...] = ()
    # Where, in words: the subdistrict's names (the district's or the city's for wider subjects),
    # from the geography; empty: the texts show the code.
    place_zh: str = ""
    place_en: str = ""

    @property
    def fingerprint(self) -> str:
        return self.alert.fingerprint

    @property
    def grade(self) -> Grade | None:
        value = self.labels.get("grade", "")
        return Grade(value) if value in _GRADE_VALUES else None

    @property
    def firing(self) -> bool:
        return self.alert.phase is Phase.FIRING

    @property
    def starts_at(self) -> datetime | None:
        return self.alert.firing_since or self.alert.pending_since


def notify_alert(
    alert: Alert,
    *,
    what_zh: str,
    what_en: str,
    sensor_type: str | None = None,
    metric: str | None = None,
    unit: str = "",
    threshold: float | None = None,
    direction: str | None = None,
    grade: Grade | None = None,
    generator_url: str = "",
    extra_labels: Mapping[str, str] | None = None,
    alertname: str | None = None,
    stands_down_at: datetime | None = None,
    may_step_down: bool = False,
    states: tuple[tuple[str, str], ...] = (),
    place_zh: str = "",
    place_en: str = "",
    district: str | None = None,
) -> NotifyAlert:
    """The alert with its Alertmanager-style labels.

    Labels: the rule's own labels (`alert.labels`), then `extra_labels`, then the ones this
    package owns and which therefore win: alertname (the rule id), grade, severity, domain,
    subdistrict, district (the geography's code of the place's district), sensor, type, metric,
    scope. `grade` is for a resolved alert that no longer
    carries one: it should still say the grade it had, so it routes where its firing message went.
    `alertname` defaults to the rule id; the engine passes the rule's family, so a default rule
    and its narrowed variants (other thresholds for some subdistricts or sensors) group as one.
    """
    labels: dict[str, str] = {**alert.labels, **(extra_labels or {})}
    labels["alertname"] = alertname or alert.rule_id
    shown = alert.grade or grade
    if shown is not None:
        labels["grade"] = shown.value
        labels["severity"] = SEVERITY_BY_GRADE[shown]
    labels["domain"] = alert.subject.domain
    labels["scope"] = alert.subject.kind
    if alert.subject.subdistrict:
        labels["subdistrict"] = alert.subject.subdistrict
    if district:
        labels["district"] = district
    if alert.subject.kind == "sensor":
        labels["sensor"] = alert.subject.id
    if sensor_type:
        labels["type"] = sensor_type
    if metric:
        labels["metric"] = metric
    return NotifyAlert(
        alert=alert,
        labels=labels,
        what_zh=what_zh,
        what_en=what_en,
        unit=unit,
        threshold=threshold,
        direction=direction,
        generator_url=generator_url,
        stands_down_at=stands_down_at,
        may_step_down=may_step_down,
        states=states,
        place_zh=place_zh,
        place_en=place_en,
    )


@dataclass(frozen=True)
class Notification:
    """One message to one receiver, as the outbox stores it.

    Everything here is fixed when the notification is created, so every retry sends the same body
    under the same idempotency key; only the signature timestamp changes per attempt (a receiver
    that was down for an hour must not reject the retry as stale).
    """

    receiver: str
    group_key: str
    kind: NotificationKind
    episode_start: datetime
    grade: Grade | None
    sequence: int
    idempotency_key: str
    payload: Mapping[str, Any] = field(repr=False)  # JSON body for the receiver's kind, unsigned
    created_at: datetime
    alert_count: int
