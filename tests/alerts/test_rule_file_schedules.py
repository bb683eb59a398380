"""Schedules and state_in in rule files: overrides and new rules that change levels by night,
rules on labelled states, and every mistake named by file and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.model import Grade, Phase
from tests.alerts.rule_file_helpers import problems_of, write
from tests.alerts.schedule_stepping import rule_set
from tests.alerts.test_schedules import (
    BUSY_STREET,
    LAMP,
    LAMP_RULE,
    NOISE_RULE,
    QUIET_STREET,
    run,
    stepper,
)
from tests.alerts.timed_types import DARK, FAULT, local, timed_registry

CLASS_1 = """
overrides:
  - rule: default:noise_monitor:laeq:above
    subdistricts: [wujiaochang]          # a class-1 (quiet residential) area in this test
    id: class_1_noise
    above: {yellow: 50, orange: 55, red: 65}
    schedules:
      night: {time: "22:00-06:00", above: {yellow: 40, orange: 45, red: 55}}
"""


def test_an_override_for_some_subdistricts_brings_its_own_night_levels(tmp_path: Path) -> None:
    s = stepper(tmp_path, CLASS_1)
    run(s, local(25, 22, 0), 5, {QUIET_STREET: 47, BUSY_STREET: 47})
    quiet = s.alert("class_1_noise", QUIET_STREET)
    busy = s.alert(NOISE_RULE, BUSY_STREET)
    assert quiet is not None
    assert busy is not None
    assert (quiet.phase, quiet.grade) == (Phase.FIRING, Grade.ORANGE)  # 47 >= 45 (class 1)
    assert (busy.phase, busy.grade) == (Phase.FIRING, Grade.YELLOW)  # 45 <= 47 < 50 (class 2)
    assert s.alert(NOISE_RULE, QUIET_STREET) is None  # the variant replaces it there


def test_an_override_of_the_day_levels_keeps_the_night_schedule(tmp_path: Path) -> None:
    s = stepper(
        tmp_path,
        """
        overrides:
          - rule: default:noise_monitor:laeq:above
            above: {yellow: 57, orange: 62, red: 72}
        """,
    )
    rule = s.rules.rules[NOISE_RULE]
    assert [sched.schedule.name for sched in rule.schedules] == ["night", "weekend"]
    assert run(s, local(25, 21, 0), 59, {QUIET_STREET: 56}) == []  # 56 < 57 by day
    assert run(s, local(25, 22, 0), 5, {QUIET_STREET: 56}) == [
        "22:00 pending orange",  # the night's levels are untouched: orange 50, red 60
        "22:05 firing orange",
    ]


def test_a_new_rule_with_a_weekend_schedule(tmp_path: Path) -> None:
    s = stepper(
        tmp_path,
        """
        rules:
          - id: weekend_market_noise
            type: noise_monitor
            metric: laeq
            above: {red: 80}
            schedules:
              market: {days: [sat, sun], time: "07:00-12:00", above: {red: 70}}
        """,
    )
    run(s, local(27, 8, 0), 1, {QUIET_STREET: 75})  # Friday morning: 75 < 80
    assert s.alert("weekend_market_noise", QUIET_STREET) is None
    run(s, local(28, 8, 0), 1, {QUIET_STREET: 75})  # Saturday morning market: 75 >= 70
    fired = s.alert("weekend_market_noise", QUIET_STREET)
    assert fired is not None
    assert (fired.phase, fired.grade) == (Phase.FIRING, Grade.RED)


def test_state_in_rules_in_both_forms_and_an_override_of_the_default(tmp_path: Path) -> None:
    s = stepper(
        tmp_path,
        """
        rules:
          - id: lamp_not_lit
            type: streetlight
            metric: lamp
            state_in: [dark, fault]
          - id: lamp_fault_red
            type: streetlight
            metric: lamp
            state_in: {labels: [fault], grade: red}
            hold: 10m
        overrides:
          - rule: default:streetlight:lamp:state_in
            state_in: {labels: [fault, dark], grade: blue}
        """,
    )
    assert s.rules.rules[LAMP_RULE].condition.states == frozenset({DARK, FAULT})
    now = local(25, 20, 0)
    s.read(now, {(LAMP, "lamp"): DARK})
    kinds = {(t.fingerprint, t.kind, t.grade) for t in s.tick(now)}
    assert len(kinds) == 2
    assert {g for _, _, g in kinds} == {Grade.YELLOW, Grade.BLUE}
    assert s.alert("lamp_fault_red", LAMP) is None  # dark is not a fault
    now += timedelta(minutes=1)
    s.read(now, {(LAMP, "lamp"): FAULT})
    assert [(t.kind, t.grade) for t in s.tick(now)] == [("pending", Grade.RED)]  # hold 10m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'schedules: {night: {time: "10pm-6am", above: {red: 50}}}',
            "rules[0].schedules.night.time: expected a local time range like '22:00-06:00' "
            "(HH:MM-HH:MM), got '10pm-6am'",
        ),
        (
            'schedules: {night: {time: "06:00-06:00", above: {red: 50}}}',
            "rules[0].schedules.night.time: '06:00-06:00' starts and ends at the same time: a "
            "range needs two different times (for the whole day leave 'time' out)",
        ),
        (
            "schedules: {weekend: {days: [Sat], above: {red: 50}}}",
            "rules[0].schedules.weekend.days[0]: unknown day 'Sat' (one of: mon, tue, wed, thu, "
            "fri, sat, sun)",
        ),
        (
            "schedules: {night: {above: {red: 50}}}",
            "rules[0].schedules.night: say when it is in force: 'time' (\"22:00-06:00\") and/or "
            "'days'",
        ),
        (
            "schedules: {}",
            "rules[0].schedules: empty: declare at least one schedule, or remove 'schedules'",
        ),
        (
            'schedules: {night: {time: "22:00-06:00"}}',
            "rules[0].schedules.night: a schedule with no levels changes nothing: give 'above' "
            "and/or 'below'",
        ),
        (
            'schedules: {night: {time: "22:00-06:00", above: {yellow: 50, red: 45}}}',
            "rules[0].schedules.night.above.red: red (45) must be above yellow (50): more severe "
            "grades need worse values",
        ),
        (
            'schedules: {night: {time: "22:00-06:00", below: {red: 25}}}',
            "rules[0].schedules.night.below: the rule has no 'below' thresholds for it to "
            "replace; a schedule changes the levels of a direction the rule watches",
        ),
    ],
)
def test_every_malformed_schedule_in_a_rule_names_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    registry = timed_registry(tmp_path)
    write(
        tmp_path / "rules",
        "night.yaml",
        f"""
        rules:
          - id: loud
            type: noise_monitor
            metric: laeq
            above: {{yellow: 60, red: 70}}
            {text}
        """,
    )
    assert [str(p) for p in problems_of(registry, tmp_path / "rules")] == [
        f"rules/night.yaml: {expected}"
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "{id: r, type: noise_monitor, absence: {}, schedules: {n: {days: [sun], above: "
            "{red: 1}}}}",
            "rules[0].schedules: absence rules have no thresholds to schedule",
        ),
        (
            "{id: r, type: streetlight, metric: lamp, state_in: [fault, broken]}",
            "rules[0].state_in[1]: 'broken' is not a state of streetlight.lamp (declared: lit, "
            "dark, fault)",
        ),
        (
            "{id: r, type: streetlight, metric: lamp, state_in: {labels: [Fault]}}",
            "rules[0].state_in.labels[0]: 'Fault' is not a state of streetlight.lamp "
            "(declared: lit, dark, fault)",
        ),
        (
            "{id: r, type: noise_monitor, metric: laeq, state_in: [loud]}",
            "rules[0].state_in: noise_monitor.laeq declares no states: state_in needs "
            "'states: [...]' on the metric",
        ),
        (
            "{id: r, type: streetlight, metric: lamp, subject: subdistrict, aggregate: max, "
            "state_in: [fault]}",
            "rules[0].state_in: state_in watches single sensors; for places use share_offline",
        ),
        (
            "{id: r, type: streetlight, metric: lamp, above: {red: 1.5}}",
            "rules[0].above: lamp is an enumerated state (lit, dark, fault): its values are "
            "labels, not amounts; name the states with state_in",
        ),
    ],
)
def test_every_rule_mistake_with_states_or_schedules_names_file_and_key(
    tmp_path: Path, rule: str, expected: str
) -> None:
    registry = timed_registry(tmp_path)
    write(tmp_path / "rules", "r.yaml", f"rules:\n  - {rule}\n")
    assert [str(p) for p in problems_of(registry, tmp_path / "rules")] == [
        f"rules/r.yaml: {expected}"
    ]


def test_override_mistakes_with_states_and_schedules(tmp_path: Path) -> None:
    registry = timed_registry(tmp_path)
    write(
        tmp_path / "rules",
        "o.yaml",
        """
        overrides:
          - rule: default:noise_monitor:laeq:above
            state_in: [loud]
          - rule: default:streetlight:lamp:state_in
            state_in: [broken]
            schedules: {night: {time: "22:00-06:00", above: {red: 1}}}
          - rule: default:noise_monitor:laeq:above
            subdistricts: [yinhang]
            schedules: {night: {time: "22:00-06:00", above: {yellow: 50, red: 40}}}
        """,
    )
    assert [str(p) for p in problems_of(registry, tmp_path / "rules")] == [
        "rules/o.yaml: overrides[0].state_in: 'default:noise_monitor:laeq:above' is not a "
        "state_in rule (it is an above rule)",
        "rules/o.yaml: overrides[1].state_in[0]: 'broken' is not a state of lamp (declared: "
        "lit, dark, fault)",
        "rules/o.yaml: overrides[1].schedules: state_in rules have no thresholds to schedule",
        "rules/o.yaml: overrides[2].schedules.night.above.red: red (40) must be above yellow "
        "(50): more severe grades need worse values",
    ]


def test_the_shipped_rule_files_still_load_with_the_timed_types(tmp_path: Path) -> None:
    rules = rule_set(timed_registry(tmp_path), tmp_path / "empty")
    assert {NOISE_RULE, LAMP_RULE} <= set(rules.rules)
