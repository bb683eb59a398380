"""Day/night thresholds in the evaluator, stepped across 22:00 and 06:00 and into a weekend, in
Shanghai time; the zone seam; and state_in rules firing on a label.

The noise type (tests/alerts/timed_types.py) is GB 3096 class 2: by day yellow 55, orange 60,
red 70; at night (22:00-06:00) 45/50/60; at weekends by day 50/55/65; hold 5 min, so
keep_firing_for 5 min too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from alerts.engine.describe import describe
from alerts.engine.zones import one_zone
from alerts.model import Grade, Phase, Subject
from alerts.notify.text import alert_summary
from tests.alerts.rule_file_helpers import write
from tests.alerts.schedule_stepping import SHIPPED_GEOGRAPHY, Stepper, rule_set, sensors_catalog
from tests.alerts.timed_types import DARK, FAULT, LIT, local, timed_registry

NOISE_RULE = "default:noise_monitor:laeq:above"
LAMP_RULE = "default:streetlight:lamp:state_in"
QUIET_STREET = "yp-nm-0001"  # in wujiaochang
BUSY_STREET = "yp-nm-0002"  # in yinhang
LAMP = "yp-sl-0001"


def stepper(tmp_path: Path, rules: str | None = None) -> Stepper:
    registry = timed_registry(tmp_path)
    rules_dir = tmp_path / "rules"
    if rules is not None:
        write(rules_dir, "rules.yaml", rules)
    catalog = sensors_catalog(
        {
            QUIET_STREET: ("noise_monitor", "wujiaochang"),
            BUSY_STREET: ("noise_monitor", "yinhang"),
            LAMP: ("streetlight", "wujiaochang"),
        }
    )
    return Stepper(registry, rule_set(registry, rules_dir), catalog)


def run(s: Stepper, start: datetime, minutes: int, levels: dict[str, float]) -> list[str]:
    """A reading every minute at the same levels (sensor -> dB(A)) from `start` for `minutes`,
    a tick after each; the transitions as "HH:MM kind grade" (Shanghai time)."""
    out = []
    for m in range(minutes + 1):
        now = start + timedelta(minutes=m)
        s.read(now, {(sensor, "laeq"): v for sensor, v in levels.items()})
        for t in s.tick(now):
            shown = (now + timedelta(hours=8)).strftime("%H:%M")
            out.append(f"{shown} {t.kind} {t.grade.value if t.grade else '-'}")
    return out


def test_a_level_quiet_by_day_fires_at_night_only_and_resolves_in_the_morning(
    tmp_path: Path,
) -> None:
    s = stepper(tmp_path)
    # 48 dB(A) on a Wednesday: below the day's 55, above the night's 45.
    assert run(s, local(25, 21, 0), 59, {QUIET_STREET: 48}) == []
    assert run(s, local(25, 22, 0), 10, {QUIET_STREET: 48}) == [
        "22:00 pending yellow",
        "22:05 firing yellow",
    ]
    assert run(s, local(26, 5, 50), 20, {QUIET_STREET: 48}) == ["06:05 resolved yellow"]


def test_an_alert_firing_by_day_persists_through_22_00_and_grades_up_at_night(
    tmp_path: Path,
) -> None:
    s = stepper(tmp_path)
    assert run(s, local(25, 21, 0), 59, {QUIET_STREET: 58}) == [
        "21:00 pending yellow",
        "21:05 firing yellow",
    ]
    # At 22:00 58 is still above 45: no resolution, but above the night's orange (50).
    assert run(s, local(25, 22, 0), 60, {QUIET_STREET: 58}) == ["22:00 grade_up orange"]
    alert = s.alert(NOISE_RULE, QUIET_STREET)
    assert alert is not None
    assert (alert.phase, alert.grade) == (Phase.FIRING, Grade.ORANGE)
    # 06:00: 57 is yellow by day (the orange recovery level is 57.8); stepping down waits for
    # keep_firing_for (5 min) like any other easing.
    assert run(s, local(26, 5, 55), 15, {QUIET_STREET: 57}) == ["06:05 grade_down yellow"]


def test_a_weekend_day_has_its_own_levels_and_the_night_still_wins_on_a_weekend_night(
    tmp_path: Path,
) -> None:
    s = stepper(tmp_path)
    assert run(s, local(27, 10, 0), 10, {QUIET_STREET: 52}) == []  # Friday: 52 < 55
    assert run(s, local(28, 10, 0), 10, {QUIET_STREET: 52}) == [  # Saturday: 52 >= 50
        "10:00 pending yellow",
        "10:05 firing yellow",
    ]
    # Saturday night: the night's levels (listed first) win over the weekend's: orange at 50.
    assert run(s, local(28, 22, 0), 1, {QUIET_STREET: 52}) == ["22:00 grade_up orange"]


def test_the_threshold_quoted_is_the_one_in_force(tmp_path: Path) -> None:
    s = stepper(tmp_path)
    run(s, local(25, 22, 0), 5, {QUIET_STREET: 48})
    alert = s.alert(NOISE_RULE, QUIET_STREET)
    assert alert is not None
    rule = s.rules.rules[NOISE_RULE]
    night = rule.condition_at(local(25, 22, 5).astimezone(one_zone()(alert.subject)))
    shown = describe(alert, rule, s.registry, SHIPPED_GEOGRAPHY, condition=night)
    assert shown.threshold == 45
    assert "48 dB(A)，高于阈值 45 dB(A)" in alert_summary(shown)[0]
    assert (
        describe(alert, rule, s.registry, SHIPPED_GEOGRAPHY).threshold == 55
    )  # the unscheduled (day) one


def test_each_subject_reads_the_schedule_in_its_own_time_zone(tmp_path: Path) -> None:
    """The seam the geography work wires districts' zones into: here the yinhang sensor is
    placed in UTC, so at 22:00 in Shanghai (14:00 UTC) it is still day there."""
    s = stepper(tmp_path)
    shanghai, utc = one_zone("Asia/Shanghai"), one_zone("UTC")

    def zone_of(subject: Subject) -> tzinfo:
        return utc(subject) if subject.subdistrict == "yinhang" else shanghai(subject)

    s.zone_of = zone_of
    run(s, local(25, 22, 0), 5, {QUIET_STREET: 48, BUSY_STREET: 48})
    assert s.alert(NOISE_RULE, QUIET_STREET) is not None
    assert s.alert(NOISE_RULE, BUSY_STREET) is None
    # 22:00 UTC is 06:00 the next morning in Shanghai: night in UTC only.
    s2 = stepper(tmp_path / "again")
    s2.zone_of = zone_of
    at_utc_night = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    for m in range(6):
        now = at_utc_night + timedelta(minutes=m)
        s2.read(now, {(QUIET_STREET, "laeq"): 48, (BUSY_STREET, "laeq"): 48})
        s2.tick(now)
    assert s2.alert(NOISE_RULE, QUIET_STREET) is None
    firing = s2.alert(NOISE_RULE, BUSY_STREET)
    assert firing is not None
    assert firing.phase is Phase.FIRING


VITAL = """
rules:
  - id: noisy_subdistrict
    type: noise_monitor
    metric: laeq
    subject: subdistrict
    aggregate: avg
    above: {orange: 60}
    schedules:
      night: {time: "22:00-06:00", above: {orange: 50}}
"""


def test_a_vital_sign_rule_switches_to_its_night_levels(tmp_path: Path) -> None:
    s = stepper(tmp_path, VITAL)
    run(s, local(25, 21, 0), 59, {QUIET_STREET: 52, BUSY_STREET: 40})
    assert s.alert("noisy_subdistrict", "wujiaochang") is None
    run(s, local(25, 22, 0), 0, {QUIET_STREET: 52, BUSY_STREET: 40})
    alert = s.alert("noisy_subdistrict", "wujiaochang")
    assert alert is not None
    assert (alert.phase, alert.grade, alert.value) == (Phase.FIRING, Grade.ORANGE, 52)
    assert s.alert("noisy_subdistrict", "yinhang") is None


def test_a_state_rule_fires_on_its_label_and_the_texts_name_the_state(tmp_path: Path) -> None:
    s = stepper(tmp_path)
    now = local(25, 20, 0)
    s.read(now, {(LAMP, "lamp"): DARK})
    assert s.tick(now) == []  # dark is not fault
    now += timedelta(minutes=1)
    s.read(now, {(LAMP, "lamp"): FAULT})
    assert [(t.kind, t.grade) for t in s.tick(now)] == [("firing", Grade.ORANGE)]
    alert = s.alert(LAMP_RULE, LAMP)
    assert alert is not None
    shown = describe(alert, s.rules.rules[LAMP_RULE], s.registry, SHIPPED_GEOGRAPHY)
    assert (shown.unit, shown.threshold, shown.states[2]) == ("", None, ("故障", "Fault"))
    zh, en = alert_summary(shown)
    assert "灯具状态 故障（橙色预警）" in zh
    assert "lamp Fault (orange alert)" in en
    assert "2" not in zh.split("路灯控制器")[1]  # no index number anywhere in the reading
    now += timedelta(minutes=1)
    s.read(now, {(LAMP, "lamp"): LIT})
    assert [t.kind for t in s.tick(now)] == ["resolved"]
