"""The words of a notification, Chinese first and English after, short enough for a phone.

Every receiver kind says the same things (grade, what, where, value against threshold, since when
in Shanghai time, how many sensors), so the wording lives here once and `robots.py` and
`alertmanager.py` only dress it in their markup.

An alert still firing although its value is back (keep_firing_for is running) says so, with the
time it stands down if the value holds: a duty officer must not take it for a stuck alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from alerts.model import Grade
from alerts.notify import NotificationKind, NotifyAlert
from alerts.notify.grouping import AlertGroup
from schemas.states import state_label

__all__ = [
    "GRADE_EN",
    "GRADE_ZH",
    "SHANGHAI",
    "MessageText",
    "alert_summary",
    "easing",
    "format_number",
    "group_text",
    "shanghai_time",
]

# Shanghai has kept UTC+8 without daylight saving since 1991: a fixed offset needs no tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

GRADE_ZH = {grade: f"{grade.zh}色预警" for grade in Grade}  # 蓝色预警 ... 红色预警
GRADE_EN = {grade: f"{grade.value.capitalize()} alert" for grade in Grade}


@dataclass(frozen=True)
class MessageText:
    """A message as plain lines; the robots add markup, colour and length limits."""

    title_zh: str
    title_en: str
    lines_zh: tuple[str, ...]
    lines_en: tuple[str, ...]
    grade: Grade | None
    resolved: bool


def format_number(value: float) -> str:
    """0.15 -> "0.15", 310.0 -> "310": at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def shanghai_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _place(alert: NotifyAlert) -> tuple[str, str]:
    """The place's names as the engine found them in the geography; else its code."""
    if alert.place_zh:
        return alert.place_zh, alert.place_en or alert.place_zh
    subject = alert.alert.subject
    code = subject.subdistrict or subject.id
    return code, code


def _reading(alert: NotifyAlert, with_threshold: bool = True) -> tuple[str, str]:
    value = alert.alert.value
    if value is None:
        return "无数据", "no data"
    if alert.states:  # an enumerated state: its name, with no unit or threshold
        named = state_label(alert.states, value)
        return named if named is not None else ("未知状态", "unknown state")
    unit = f" {alert.unit}" if alert.unit else ""
    shown = f"{format_number(value)}{unit}"
    if not with_threshold or alert.threshold is None:
        return shown, shown
    limit = f"{format_number(alert.threshold)}{unit}"
    # Hysteresis keeps a grade until the value is clearly back, so a firing alert may quote a
    # value just on the safe side of its threshold: then "below the threshold" would be false.
    if alert.direction == "below" and value <= alert.threshold:
        return f"{shown}，低于阈值 {limit}", f"{shown}, below threshold {limit}"
    if alert.direction == "above" and value >= alert.threshold:
        return f"{shown}，高于阈值 {limit}", f"{shown}, above threshold {limit}"
    return f"{shown}（阈值 {limit}）", f"{shown} (threshold {limit})"


def _who(alert: NotifyAlert) -> tuple[str, str]:
    """The subject's short name inside a list: the sensor id, or the place."""
    if alert.alert.subject.kind == "sensor":
        return alert.alert.subject.id, alert.alert.subject.id
    return _place(alert)


def easing(alert: NotifyAlert) -> tuple[str, str] | None:
    """(zh, en) "easing: resolves at ... if it holds" for an easing alert, else None."""
    if not alert.firing or alert.stands_down_at is None:
        return None
    at = shanghai_time(alert.stands_down_at)
    if alert.may_step_down:  # it may only have eased to a milder grade
        zh, en = "降级或恢复", "steps down or resolves"
    else:
        zh, en = "恢复", "resolves"
    return f"回落中：若保持，{at} {zh}", f"easing: {en} at {at} UTC+8 if it holds"


def alert_summary(alert: NotifyAlert) -> tuple[str, str]:
    """One line per alert (zh, en), e.g. for the webhook's `summary` annotation."""
    place_zh, place_en = _place(alert)
    sensor = alert.alert.subject.id if alert.alert.subject.kind == "sensor" else ""
    where_zh = f"{place_zh} {sensor}".strip()
    where_en = f"{place_en} {sensor}".strip()
    reading_zh, reading_en = _reading(alert, with_threshold=alert.firing)
    grade = alert.grade
    if not alert.firing:
        tail_zh, tail_en = "已恢复", "resolved"
    elif grade is not None:
        tail_zh, tail_en = GRADE_ZH[grade], GRADE_EN[grade].lower()
    else:
        tail_zh, tail_en = "告警", "alert"
    eased = easing(alert)
    if eased is not None:
        tail_zh, tail_en = f"{tail_zh}，{eased[0]}", f"{tail_en}; {eased[1]}"
    return (
        f"{where_zh} {alert.what_zh} {reading_zh}（{tail_zh}）",
        f"{where_en}: {alert.what_en} {reading_en} ({tail_en})",
    )


def _where(alerts: tuple[NotifyAlert, ...]) -> tuple[str, str]:
    first = alerts[0]
    place_zh, place_en = _place(first)
    sensors = all(a.alert.subject.kind == "sensor" for a in alerts)
    if len(alerts) == 1:
        if sensors:
            sid = first.alert.subject.id
            return f"{place_zh} {sid}", f"{place_en}, sensor {sid}"
        return place_zh, place_en
    n = len(alerts)
    places = {a.alert.subject.subdistrict for a in alerts}
    noun_zh, noun_en = ("个传感器", "sensors") if sensors else ("条告警", "alerts")
    if len(places) == 1:
        return f"{place_zh} {n} {noun_zh}", f"{place_en}, {n} {noun_en}"
    return f"{len(places)} 个街道 {n} {noun_zh}", f"{n} {noun_en} in {len(places)} subdistricts"


def _prefix(kind: NotificationKind, grade: Grade | None) -> tuple[str, str]:
    grade_zh = GRADE_ZH[grade] if grade else "告警"
    grade_en = GRADE_EN[grade] if grade else "Alert"
    if kind is NotificationKind.RESOLVED:
        return "【已恢复】", "[Resolved]"
    if kind is NotificationKind.REPEAT:
        return f"【{grade_zh}·持续】", f"[{grade_en}, still firing]"
    if kind is NotificationKind.ESCALATION:
        return f"【升级·{grade_zh}未确认】", f"[Escalated: {grade_en.lower()} not acknowledged]"
    return f"【{grade_zh}】", f"[{grade_en}]"


def group_text(
    group: AlertGroup,
    kind: NotificationKind,
    *,
    limit: int = 5,
    unacknowledged_for_s: float | None = None,
) -> MessageText:
    """Title and lines for one group; lists at most `limit` alerts, worst first."""
    resolved = kind is NotificationKind.RESOLVED
    shown = group.alerts if resolved else (group.firing or group.alerts)
    grade = group.grade
    prefix_zh, prefix_en = _prefix(kind, grade)
    what_zh, what_en = shown[0].what_zh, shown[0].what_en
    where_zh, where_en = _where(shown)
    zh: list[str] = []
    en: list[str] = []
    if len(shown) == 1:
        reading_zh, reading_en = _reading(shown[0], with_threshold=not resolved)
        if shown[0].states:
            zh.append(f"状态：{reading_zh}")
            en.append(f"State: {reading_en}")
        else:
            zh.append(f"数值：{reading_zh}")
            en.append(f"Value: {reading_en}")
        eased = easing(shown[0])
        if eased is not None:
            zh.append(eased[0])
            en.append(eased[1][:1].upper() + eased[1][1:])  # a line of its own
    else:
        for alert in shown[:limit]:
            (who_zh, who_en), (reading_zh, reading_en) = (
                _who(alert),
                _reading(alert, with_threshold=not resolved),
            )
            eased = easing(alert)
            if eased is not None:
                reading_zh, reading_en = f"{reading_zh}（{eased[0]}）", f"{reading_en} ({eased[1]})"
            zh.append(f"{who_zh}：{reading_zh}")
            en.append(f"{who_en}: {reading_en}")
        if len(shown) > limit:
            zh.append(f"另有 {len(shown) - limit} 个")
            en.append(f"and {len(shown) - limit} more")
    _times(shown, resolved, zh, en)
    if unacknowledged_for_s is not None:
        minutes = round(unacknowledged_for_s / 60)
        zh.append(f"已 {minutes} 分钟未确认")
        en.append(f"Not acknowledged for {minutes} min")
    cleared = len(group.alerts) - len(shown)
    if cleared > 0:
        zh.append(f"已恢复 {cleared} 个")
        en.append(f"{cleared} resolved")
    return MessageText(
        title_zh=f"{prefix_zh}{what_zh} · {where_zh}",
        title_en=f"{prefix_en} {what_en} · {where_en}",
        lines_zh=tuple(zh),
        lines_en=tuple(en),
        grade=grade,
        resolved=resolved,
    )


def _times(shown: tuple[NotifyAlert, ...], resolved: bool, zh: list[str], en: list[str]) -> None:
    starts = [s for a in shown if (s := a.starts_at) is not None]
    if starts:
        since = shanghai_time(min(starts))
        zh.append(f"开始：{since}")
        en.append(f"Since: {since} (UTC+8)")
    ends = [e for a in shown if (e := a.alert.resolved_at) is not None]
    if resolved and ends:
        until = shanghai_time(max(ends))
        zh.append(f"恢复：{until}")
        en.append(f"Resolved: {until} (UTC+8)")
