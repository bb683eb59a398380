"""The generic JSON webhook: Alertmanager's webhook format, version 4, field for field.

Checked against Alertmanager's `notify/webhook/webhook.go` (`Message`: the template `Data` plus
`version`, `groupKey`, `truncatedAlerts`) and `template/template.go` (`Data`: receiver, status,
alerts, groupLabels, commonLabels, commonAnnotations, externalURL; each alert: status, labels,
annotations, startsAt, endsAt, generatorURL, fingerprint). Any receiver written for Alertmanager
(alerta, Grafana OnCall, PagerDuty bridges, home-grown ones) therefore accepts our messages.

Conventions kept from Alertmanager: times are RFC 3339 in UTC (Go's RFC3339Nano: fractions only
when present); a firing alert's `endsAt` is Go's zero time "0001-01-01T00:00:00Z"; the group's
`status` is "firing" while any alert fires; common labels and annotations are those every listed
alert shares; `truncatedAlerts` counts the alerts left out by the receiver's `max_alerts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from alerts.notify import NotifyAlert
from alerts.notify.grouping import AlertGroup
from alerts.notify.text import alert_summary, format_number
from schemas.states import state_label

__all__ = ["WEBHOOK_VERSION", "ZERO_TIME", "alert_annotations", "rfc3339", "webhook_message"]

WEBHOOK_VERSION = "4"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's time.Time{} as JSON: "not ended yet"


def rfc3339(moment: datetime) -> str:
    """UTC, "Z", fractional seconds only when non-zero (as Go marshals time.Time)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: times must carry a UTC offset")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def alert_annotations(alert: NotifyAlert) -> dict[str, str]:
    """Bilingual `summary` (zh first), each language alone, and the raw value/threshold/unit."""
    zh, en = alert_summary(alert)
    annotations = {"summary": f"{zh} / {en}", "summary_zh": zh, "summary_en": en}
    if alert.alert.value is not None:
        annotations["value"] = format_number(alert.alert.value)
    if alert.threshold is not None:
        annotations["threshold"] = format_number(alert.threshold)
    if alert.unit:
        annotations["unit"] = alert.unit
    named = state_label(alert.states, alert.alert.value)
    if named is not None:  # an enumerated state: its name beside the stored index
        annotations["state_zh"], annotations["state_en"] = named
    return annotations


def _alert(alert: NotifyAlert) -> dict[str, Any]:
    starts = alert.starts_at
    ends = None if alert.firing else alert.alert.resolved_at
    return {
        "status": "firing" if alert.firing else "resolved",
        "labels": dict(sorted(alert.labels.items())),
        "annotations": alert_annotations(alert),
        "startsAt": rfc3339(starts) if starts else ZERO_TIME,
        "endsAt": rfc3339(ends) if ends else ZERO_TIME,
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    common = dict(maps[0])
    for other in maps[1:]:
        common = {k: v for k, v in common.items() if other.get(k) == v}
    return dict(sorted(common.items()))


def webhook_message(
    group: AlertGroup,
    receiver: str,
    *,
    external_url: str = "",
    max_alerts: int = 0,
) -> dict[str, Any]:
    """The v4 message for `group` sent to `receiver` (0 `max_alerts` = no limit)."""
    alerts = list(group.alerts)
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        alerts, truncated = alerts[:max_alerts], len(alerts) - max_alerts
    rendered = [_alert(a) for a in alerts]
    return {
        "receiver": receiver,
        "status": group.status,
        "alerts": rendered,
        "groupLabels": dict(sorted(group.labels.items())),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([r["annotations"] for r in rendered]),
        "externalURL": external_url,
        "version": WEBHOOK_VERSION,
        "groupKey": group.key,
        "truncatedAlerts": truncated,
    }
