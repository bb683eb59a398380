"""Grouping alerts into messages per (rule, subdistrict), as Alertmanager's group_by."""

from __future__ import annotations

import random

from alerts.model import Grade
from alerts.notify import NotificationKind
from alerts.notify.grouping import ALL_LABELS, group_alerts
from alerts.notify.text import group_text
from tests.alerts.notifying import RULE, T0, burst, pressure

# --- grouping --------------------------------------------------------------------------------


def test_a_burst_of_200_sensors_in_one_subdistrict_is_one_group() -> None:
    groups = group_alerts(burst(200))
    assert len(groups) == 1
    group = groups[0]
    assert len(group.alerts) == 200
    assert group.key == '{}:{alertname="water_pressure_low", subdistrict="yinhang"}'
    assert group_text(group, NotificationKind.FIRING).title_zh.endswith("殷行街道 200 个传感器")


def test_two_subdistricts_make_two_groups_whatever_the_order() -> None:
    alerts = burst(30, "yinhang") + burst(20, "wujiaochang")
    groups = group_alerts(alerts)
    assert [len(g.alerts) for g in groups] == [20, 30]  # sorted by key: wujiaochang first
    random.Random(7).shuffle(alerts)
    shuffled = group_alerts(alerts)
    assert [g.key for g in shuffled] == [g.key for g in groups]
    assert [[a.fingerprint for a in g.alerts] for g in shuffled] == [
        [a.fingerprint for a in g.alerts] for g in groups
    ]


def test_group_by_options_duplicates_and_group_grade() -> None:
    assert len(group_alerts(burst(5), group_by=[ALL_LABELS])) == 5
    district = group_alerts([pressure(subdistrict=None)])[0]
    assert district.labels == {"alertname": RULE}
    twice = burst(3) + burst(3)
    assert len(group_alerts(twice)[0].alerts) == 3  # same fingerprint counts once
    mixed = group_alerts([pressure("A", grade=Grade.YELLOW), pressure("B", grade=Grade.RED)])[0]
    assert mixed.grade is Grade.RED
    assert mixed.alerts[0].alert.subject.id == "B"
    assert mixed.episode_start == T0
