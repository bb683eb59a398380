"""An alert in words for people: what is measured, in which unit, against which threshold, and
whether it is easing (firing while its value is back, until keep_firing_for has passed).

The notification side (`alerts/notify/`) needs neither rules nor the registry; this module reads
both once per alert and hands over a `NotifyAlert`.
"""

from __future__ import annotations

from datetime import datetime

from alerts.model import Alert, Grade, Phase
from alerts.notify import NotifyAlert, notify_alert
from alerts.rules.rule import (
    THRESHOLD_KINDS,
    Aggregate,
    Condition,
    ConditionKind,
    Levels,
    Rule,
    SubjectKind,
)
from schemas.geography import Geography
from schemas.grades import grade_rank
from schemas.registry import Registry
from schemas.states import state_names

__all__ = ["describe"]

_AGGREGATE_ZH = {
    Aggregate.AVG: "平均",
    Aggregate.MIN: "最低",
    Aggregate.MAX: "最高",
    Aggregate.SUM: "合计",
}
_AGGREGATE_EN = {
    Aggregate.AVG: "average",
    Aggregate.MIN: "lowest",
    Aggregate.MAX: "highest",
    Aggregate.SUM: "total",
}


def _what(rule: Rule, registry: Registry) -> tuple[str, str, str]:
    """(zh, en, unit) of the compared quantity."""
    sensor_type = registry.get(rule.scope.type_name)
    type_zh = sensor_type.display_name.zh if sensor_type else rule.scope.type_name
    type_en = sensor_type.display_name.en if sensor_type else rule.scope.type_name
    kind = rule.condition.kind
    if rule.aggregate is Aggregate.SHARE_OFFLINE:
        return f"{type_zh}离线比例", f"{type_en} offline share", "%"
    if kind is ConditionKind.ABSENCE:
        return f"{type_zh}离线", f"{type_en} offline", ""
    metric = None
    if sensor_type is not None and rule.metric is not None:
        metric = sensor_type.metrics.get(rule.metric)
    metric_zh = metric.display_name.zh if metric else (rule.metric or "")
    metric_en = metric.display_name.en if metric else (rule.metric or "")
    unit = metric.unit if metric and not metric.states else ""  # a state shows by its name
    zh, en = f"{type_zh}·{metric_zh}", f"{type_en} · {metric_en.lower()}"
    if kind is ConditionKind.FLATLINE:
        return f"{zh}数值冻结", f"{en} stuck", unit
    if kind is ConditionKind.RATE_OF_CHANGE:
        return f"{zh}变化速率", f"{en} rate of change", f"{unit}/min"
    if rule.aggregate is not None and rule.aggregate in _AGGREGATE_ZH:
        zh = f"{zh}（{_AGGREGATE_ZH[rule.aggregate]}）"
        en = f"{_AGGREGATE_EN[rule.aggregate]} {en}"
    return zh, en, unit


def _threshold(levels: Levels | None, grade: Grade) -> float | None:
    if levels is None or grade not in levels.grades:
        return None
    return levels.thresholds[levels.grades.index(grade)]


def _side(cond: Condition, alert: Alert, grade: Grade | None) -> tuple[float | None, str | None]:
    if grade is None or cond.kind not in THRESHOLD_KINDS:
        return None, None
    above, below = _threshold(cond.above, grade), _threshold(cond.below, grade)
    if above is not None and below is not None:  # outside a band: the side the value is on
        middle = (above + below) / 2
        if alert.value is not None and alert.value < middle:
            return below, "below"
        return above, "above"
    if above is not None:
        return above, "above"
    if below is not None:
        return below, "below"
    return None, None


def _easing(alert: Alert, rule: Rule) -> tuple[datetime | None, bool]:
    """(when a firing alert whose value is back stands down if the value holds, whether that
    may be a step down rather than resolving); (None, False) when it is not easing."""
    if alert.phase is not Phase.FIRING or alert.clearing_since is None or alert.grade is None:
        return None, False
    milder = any(grade_rank(g) < grade_rank(alert.grade) for g in rule.grades)
    return alert.clearing_since + rule.timing.keep_firing_for, milder


def _place(alert: Alert, geography: Geography) -> tuple[str, str, str | None]:
    """(zh, en) of where the alert is, and its district's code: a subdistrict's names, a
    district's for a district-wide subject, the city's (and no district) for a city-wide one."""
    subject = alert.subject
    if subject.kind == SubjectKind.CITY.value:
        city = geography.city
        if subject.id != city.code:  # an alert of a city the files no longer name
            return subject.id, subject.id, None
        return city.zh, city.en, None
    if subject.subdistrict is not None:
        sub = geography.get(subject.subdistrict)
        if sub is None:
            return subject.subdistrict, subject.subdistrict, None
        return sub.zh, sub.en, sub.district
    district = geography.districts.get(subject.id)
    if district is None:
        return subject.id, subject.id, None
    return district.zh, district.en, district.code


def describe(
    alert: Alert,
    rule: Rule,
    registry: Registry,
    geography: Geography,
    *,
    last_grade: Grade | None = None,
    condition: Condition | None = None,
    external_url: str = "",
) -> NotifyAlert:
    """`alert` with labels and words; `last_grade` for a resolved alert's routing; `condition`
    the rule's condition in force (its night levels by night), to quote its threshold."""
    what_zh, what_en, unit = _what(rule, registry)
    grade = alert.grade or last_grade
    threshold, direction = _side(condition or rule.condition, alert, grade)
    url = f"{external_url.rstrip('/')}/alerts/{alert.fingerprint}" if external_url else ""
    stands_down_at, may_step_down = _easing(alert, rule)
    metric = None if rule.metric is None else registry.metric(rule.scope.type_name, rule.metric)
    # The value is a state (not a rate of one, nor an aggregate): shown by its name.
    plain = rule.aggregate is None and rule.condition.kind is not ConditionKind.RATE_OF_CHANGE
    states = state_names(metric) if metric is not None and plain else ()
    place_zh, place_en, district = _place(alert, geography)
    return notify_alert(
        alert,
        what_zh=what_zh,
        what_en=what_en,
        sensor_type=rule.scope.type_name,
        metric=rule.metric,
        unit=unit,
        threshold=threshold,
        direction=direction,
        grade=last_grade,
        generator_url=url,
        alertname=rule.family,
        stands_down_at=stands_down_at,
        may_step_down=may_step_down,
        states=states,
        place_zh=place_zh,
        place_en=place_en,
        district=district,
    )
