"""When a schedule is in force, and every malformed schedule or state named by file and key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from schemas.errors import RegistryError
from schemas.registry import load_registry
from schemas.schedules import Schedule, parse_schedule
from schemas.states import state_label, state_names
from tests.alerts.timed_types import NOISE, STREETLIGHT, types_folder


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)  # 25 is a Wednesday, 28 a Saturday


def _schedule(time: str | None, days: list[str] | None = None) -> Schedule:
    schedule, findings = parse_schedule("s", time, days)
    assert findings == []
    assert schedule is not None
    return schedule


def test_a_range_crossing_midnight_starts_included_and_ends_excluded() -> None:
    night = _schedule("22:00-06:00")
    assert not night.in_force(_at(25, 21, 59))
    assert night.in_force(_at(25, 22, 0))
    assert night.in_force(_at(26, 0, 0))
    assert night.in_force(_at(26, 5, 59))
    assert not night.in_force(_at(26, 6, 0))
    assert not night.in_force(_at(26, 12, 0))
    assert night.describe() == "22:00-06:00"


def test_a_day_range_and_one_ending_at_midnight() -> None:
    day = _schedule("06:00-22:00")
    assert day.in_force(_at(25, 6, 0))
    assert not day.in_force(_at(25, 22, 0))
    evening = _schedule("18:00-24:00")
    assert evening.in_force(_at(25, 23, 59))
    assert not evening.in_force(_at(26, 0, 0))


def test_days_of_a_range_crossing_midnight_are_the_day_it_starts() -> None:
    friday_night = _schedule("22:00-06:00", ["fri"])
    assert friday_night.in_force(_at(27, 23, 0))  # Friday 23:00
    assert friday_night.in_force(_at(28, 2, 0))  # Saturday 02:00: still Friday night
    assert not friday_night.in_force(_at(27, 2, 0))  # Friday 02:00 is Thursday night
    assert not friday_night.in_force(_at(28, 23, 0))  # Saturday night
    weekend = _schedule(None, ["sat", "sun"])
    assert weekend.in_force(_at(28, 0, 0))
    assert weekend.in_force(_at(29, 23, 59))
    assert not weekend.in_force(_at(30, 0, 0))  # Monday
    assert weekend.describe() == "sat,sun"


@pytest.mark.parametrize(
    ("time", "days", "key", "words"),
    [
        ("22-06", None, "time", "expected a local time range like '22:00-06:00'"),
        ("25:00-06:00", None, "time", "the start 25:00 is not a time"),
        ("22:00-06:75", None, "time", "the end 06:75 is not a time"),
        ("24:00-06:00", None, "time", "the start 24:00 is not a time (00:00-23:59)"),
        ("22:00-22:00", None, "time", "starts and ends at the same time"),
        ("00:00-24:00", None, "time", "starts and ends at the same time"),
        (None, ["sat", "sunday"], "days[1]", "unknown day 'sunday' (one of: mon, tue,"),
        (None, ["sat", "sat"], "days[1]", "sat is listed twice"),
        (None, [], "days", "empty: list at least one day"),
        (None, None, "", "say when it is in force"),
    ],
)
def test_malformed_schedules_say_what_and_where(
    time: str | None, days: list[str] | None, key: str, words: str
) -> None:
    schedule, findings = parse_schedule("night", time, days)
    assert schedule is None
    assert len(findings) == 1
    assert findings[0][0] == key
    assert words in findings[0][1]


def _problems(tmp_path: Path, **files: str) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registry(types_folder(tmp_path, **files))
    return [str(p) for p in caught.value.problems]


def _noise(old: str, new: str) -> str:
    assert old in NOISE
    return NOISE.replace(old, new)


THRESHOLDS = "sensor_types/noise_monitor.yaml: metrics.laeq.thresholds"
NIGHT = f"{THRESHOLDS}.schedules.night"


def test_the_test_types_load_with_their_schedules_and_states(tmp_path: Path) -> None:
    registry = load_registry(types_folder(tmp_path))
    laeq = registry.metric("noise_monitor", "laeq")
    assert laeq is not None
    assert laeq.thresholds is not None
    assert list(laeq.thresholds.schedules or {}) == ["night", "weekend"]
    lamp = registry.metric("streetlight", "lamp")
    assert lamp is not None
    names = state_names(lamp)
    assert names == (("亮灯", "Lit"), ("dark", "dark"), ("故障", "Fault"))
    assert state_label(names, 2.0) == ("故障", "Fault")
    assert state_label(names, 1.5) is None
    assert state_label(names, 3.0) is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'time: "22:00-06:00"',
            'time: "22:00-6"',
            f"{NIGHT}.time: expected a local time range like '22:00-06:00' (HH:MM-HH:MM), "
            "got '22:00-6'",
        ),
        (
            'time: "22:00-06:00"',
            'time: "22:00-22:00"',
            f"{NIGHT}.time: '22:00-22:00' starts and ends at the same time: a range needs two "
            "different times (for the whole day leave 'time' out)",
        ),
        (
            "days: [sat, sun]",
            "days: [sat, sunday]",
            f"{THRESHOLDS}.schedules.weekend.days[1]: unknown day 'sunday' "
            "(one of: mon, tue, wed, thu, fri, sat, sun)",
        ),
        (
            'night: {time: "22:00-06:00", ',
            "night: {",
            f"{NIGHT}: say when it is in force: 'time' (\"22:00-06:00\") and/or 'days'",
        ),
        (
            ", above: {yellow: 45, orange: 50, red: 60}}\n        weekend",
            "}\n        weekend",
            f"{NIGHT}: a schedule with no levels changes nothing: give 'above' and/or 'below'",
        ),
        (
            "above: {yellow: 45, orange: 50, red: 60}",
            "above: {yellow: 45, orange: 44, red: 60}",
            f"{NIGHT}.above.orange: orange (44) must be above yellow (45): more severe grades "
            "need worse values",
        ),
        (
            "above: {yellow: 45, orange: 50, red: 60}",
            "above: {yellow: 45, orange: 50, red: 160}",
            f"{NIGHT}.above.red: 160 is outside the physical range [20, 130] dB(A)",
        ),
        (
            "above: {yellow: 45, orange: 50, red: 60}",
            "above: {yellow: 45, orange: 50, red: 60, hold: 1m}",
            f"{NIGHT}.above.hold: hold is the same at every time: set it on the unscheduled "
            "'above' levels",
        ),
        (
            "above: {yellow: 45, orange: 50, red: 60}",
            "below: {yellow: 25}",
            f"{NIGHT}.below: there are no unscheduled 'below' thresholds for it to replace; "
            "declare them (they apply when no schedule is in force)",
        ),
        (
            "      schedules:\n        night:",
            "      below: {yellow: 30}\n      schedules:\n        night:",
            None,  # a 'below' by day is fine...
        ),
    ],
)
def test_every_malformed_schedule_names_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str | None
) -> None:
    if expected is None:
        # ... but not one that overlaps the night's 'above' while the night is in force.
        text = _noise(old, new).replace("{yellow: 45, orange: 50", "{yellow: 28, orange: 50")
        problems = _problems(tmp_path, **{"noise_monitor.yaml": text})
        assert problems == [
            f"{NIGHT}: while it is in force, 'below' thresholds (up to 30) overlap 'above' "
            "thresholds (from 28): too high and too low at once"
        ]
        return
    assert _problems(tmp_path, **{"noise_monitor.yaml": _noise(old, new)}) == [expected]


def test_an_empty_schedules_block_is_refused(tmp_path: Path) -> None:
    text = NOISE.split("      schedules:")[0] + "      schedules: {}\n"
    assert _problems(tmp_path, **{"noise_monitor.yaml": text}) == [
        f"{THRESHOLDS}.schedules: empty: declare at least one schedule, or remove 'schedules'"
    ]


LAMP = "sensor_types/streetlight.yaml: metrics.lamp"


def _lamp(old: str, new: str) -> str:
    assert old in STREETLIGHT
    return STREETLIGHT.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "labels: [fault]",
            "labels: [broken]",
            f"{LAMP}.thresholds.state_in.labels[0]: 'broken' is not a state of metrics.lamp "
            "(declared: lit, dark, fault)",
        ),
        (
            "fault: {zh: 故障",
            "faulty: {zh: 故障",
            f"{LAMP}.state_names.faulty: 'faulty' is not a state of metrics.lamp "
            "(declared: lit, dark, fault)",
        ),
        (
            "range: {min: 0, max: 2}",
            "range: {min: 0, max: 1}",
            f"{LAMP}.range: a state metric stores the index of its 3 states: range must be min 0, "
            "max 2",
        ),
        ("states: [lit, dark, fault]", "states: [lit, dark, lit]", None),
        (
            "state_in: {labels: [fault], grade: orange}",
            "above: {orange: 1.5}",
            f"{LAMP}.thresholds: 'above'/'below' would compare state index numbers; name the "
            "states with state_in",
        ),
    ],
)
def test_every_state_mistake_names_file_and_key(
    tmp_path: Path, old: str, new: str, expected: str | None
) -> None:
    problems = _problems(tmp_path, **{"streetlight.yaml": _lamp(old, new)})
    if expected is None:  # a label twice: reported, and 'fault' is then undeclared
        assert f"{LAMP}.states.2: state 'lit' is declared twice" in problems
        return
    assert problems == [expected]


def test_state_in_on_a_metric_without_states_is_refused(tmp_path: Path) -> None:
    text = _lamp("    states: [lit, dark, fault]\n", "").replace(
        "    state_names: {fault: {zh: 故障, en: Fault}, lit: {zh: 亮灯, en: Lit}}\n", ""
    )
    text = text.replace("range: {min: 0, max: 2}", "range: {min: 0, max: 1}")
    assert _problems(tmp_path, **{"streetlight.yaml": text}) == [
        f"{LAMP}.thresholds.state_in.labels: metrics.lamp declares no states: state_in needs "
        "'states: [...]' on the metric"
    ]
