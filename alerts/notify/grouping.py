"""Grouping alerts into messages, as Alertmanager's `group_by` does.

By default alerts group per (rule, subdistrict): when a water main bursts and 200 pressure
sensors in 殷行街道 breach at once, the duty officer gets one message ("殷行街道 200 个传感器").
Grouping is a pure function of the alerts and the label names, and the group key is a stable
string (Alertmanager's `<route key>:{label="value", ...}` form), so the same alerts always form
the same groups with the same keys, whichever order they arrive in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.model import Grade
from alerts.notify import NotifyAlert
from schemas.grades import grade_rank, worst

__all__ = ["ALL_LABELS", "DEFAULT_GROUP_BY", "AlertGroup", "format_labels", "group_alerts"]

DEFAULT_GROUP_BY: tuple[str, ...] = ("alertname", "subdistrict")
ALL_LABELS = "..."  # Alertmanager's spelling for "group by every label", i.e. no grouping


@dataclass(frozen=True)
class AlertGroup:
    """Alerts that go out together in one message; worst first."""

    key: str
    labels: Mapping[str, str]  # the group_by labels the alerts share (groupLabels)
    alerts: tuple[NotifyAlert, ...]

    @property
    def firing(self) -> tuple[NotifyAlert, ...]:
        return tuple(a for a in self.alerts if a.firing)

    @property
    def status(self) -> str:
        """Alertmanager's rule: "firing" while any alert fires, else "resolved"."""
        return "firing" if self.firing else "resolved"

    @property
    def grade(self) -> Grade | None:
        """The worst grade among firing alerts (or among all, once all resolved)."""
        pool = self.firing or self.alerts
        return worst(a.grade for a in pool)

    @property
    def episode_start(self) -> datetime | None:
        """When the earliest alert of the group started firing."""
        starts = [s for a in self.alerts if (s := a.starts_at) is not None]
        return min(starts, default=None)


def format_labels(labels: Mapping[str, str]) -> str:
    """`{a="x", b="y"}` with sorted names, like Prometheus' LabelSet.String()."""
    inner = ", ".join(f"{k}={json.dumps(labels[k], ensure_ascii=False)}" for k in sorted(labels))
    return "{" + inner + "}"


def group_alerts(
    alerts: Iterable[NotifyAlert],
    group_by: Sequence[str] = DEFAULT_GROUP_BY,
    route_key: str = "{}",
) -> list[AlertGroup]:
    """Groups of `alerts` sharing the values of the `group_by` labels, sorted by key.

    A label an alert lacks is left out of its group labels (a district-wide alert has no
    subdistrict), as in Alertmanager. An alert listed twice (same fingerprint) counts once: the
    last occurrence wins, since one (rule, subject) has at most one active alert.
    """
    unique = {a.fingerprint: a for a in alerts}
    buckets: dict[str, tuple[dict[str, str], list[NotifyAlert]]] = {}
    for alert in unique.values():
        labels = _group_labels(alert.labels, group_by)
        key = f"{route_key}:{format_labels(labels)}"
        buckets.setdefault(key, (labels, []))[1].append(alert)
    return [
        AlertGroup(key=key, labels=labels, alerts=tuple(sorted(members, key=_worst_first)))
        for key, (labels, members) in sorted(buckets.items())
    ]


def _group_labels(labels: Mapping[str, str], group_by: Sequence[str]) -> dict[str, str]:
    if ALL_LABELS in group_by:
        return dict(labels)
    return {name: labels[name] for name in group_by if name in labels}


def _worst_first(alert: NotifyAlert) -> tuple[int, int, float, str, str]:
    # Firing before resolved, higher grade first, then the value furthest past the threshold,
    # so a message that lists only the first few alerts shows the ones that matter.
    value = alert.alert.value
    badness = 0.0 if value is None else (-value if alert.direction == "below" else value)
    return (
        0 if alert.firing else 1,
        -grade_rank(alert.grade),
        -badness,
        alert.alert.subject.id,
        alert.fingerprint,
    )
