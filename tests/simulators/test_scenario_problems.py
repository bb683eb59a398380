"""Every kind of mistake in a scenario file names its file and key, all reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import SchemaError
from schemas.registry import Registry
from simulators.scenarios import (
    SCENARIOS_DIR,
    ScenarioError,
    load_scenarios,
)
from tests.simulators.drill_helpers import (
    GOOD,
    SMOKE,
    _drill,
    _problems,
    _write,
)

# --- mistakes name their file and key ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "type: water_main_pressure, subdistricts",
            "type: water_main_presure, subdistricts",
            "effects[0].select.type: unknown sensor type 'water_main_presure'; "
            "did you mean 'water_main_pressure'?",
        ),
        (
            "metric: pressure\n",
            "metric: presure\n",
            "effects[0].metric: unknown metric 'presure' of water_main_pressure "
            "(pressure, battery)",
        ),
        (
            "subdistricts: [yinhang]",
            "subdistricts: [yinhan]",
            "effects[0].select.subdistricts[0]: unknown subdistrict 'yinhan'; "
            "did you mean 'yinhang'?",
        ),
        (
            "subdistrict: yinhang",
            "subdistrict: pudong",
            "expected_alerts[0].subdistrict: unknown subdistrict 'pudong' (one of: ",
        ),
        (
            "multiply: 0.6",
            "set: 2.5",
            "effects[0].set: 2.5 is outside the physical range [0, 1.6] MPa of "
            "water_main_pressure.pressure",
        ),
        (
            "multiply: 0.6",
            "multiply: 0.6\n    set: 0.1",
            "effects[0]: give exactly one of multiply, add or set (found: multiply, set)",
        ),
        (
            "multiply: 0.6",
            "start: 0s",
            "effects[0]: give exactly one of multiply, add or set (found: none)",
        ),
        (
            "share: 1.0",
            "share: 1.5",
            "effects[0].select.share: 1.5 is outside 0..1",
        ),
        (
            "share: 1.0",
            "share: 0",
            "effects[0].select.share: 0 is outside 0..1",
        ),
        (
            "grade: yellow",
            "grade: purple",
            "expected_alerts[0].grade: Input should be 'blue', 'yellow', 'orange' or 'red'",
        ),
        (
            "duration: 10m",
            "duration: 10 minutes",
            "duration: expected a duration like '30s', '5m', '1h', got '10 minutes'",
        ),
        (
            "ramp_in: 2m",
            "ramp_in: soon",
            "effects[0].ramp_in: expected a duration like '30s', '5m', '1h', got 'soon'",
        ),
        (
            "within: 5m",
            "within: 0s",
            "expected_alerts[0].within: a duration must be positive, got '0s'",
        ),
        (
            "ramp_out: 4m",
            "ramp_out: 4m\n    rampout: 4m",
            "effects[0].rampout: unknown key",
        ),
        ("description: A test drill.\n", "", "description: required key is missing"),
        ("name: drill", "name: Drill-1", "name: String should match pattern"),
        (
            "ramp_out: 4m",
            "ramp_out: 4m\n    metric: flow",
            "line 11, column 5: invalid YAML: duplicate key 'metric'",
        ),
        (
            "ramp_in: 2m",
            "ramp_in: 2m\n    start: 10m",
            "effects[0].start: 10m is not before the effect's end (10m)",
        ),
        (
            "ramp_in: 2m",
            "ramp_in: 2m\n    start: 9m",
            "effects[0].ramp_in: 2m is longer than the effect's window (1m from start to end)",
        ),
        (
            "ramp_in: 2m",
            "ramp_in: 2m\n    end: 20m",
            "effects[0].end: 20m is after the scenario's duration (10m)",
        ),
        (
            "within: 5m",
            "within: 1h",
            "expected_alerts[0].within: 1h is after the scenario is over (14m with the ramps out)",
        ),
        (
            "subdistrict: yinhang, grade",
            "subdistrict: wujiaochang, grade",
            "expected_alerts[0]: no effect changes water_main_pressure.pressure in wujiaochang",
        ),
        (
            "share: 1.0}",
            "share: 1.0, near: {lat: 31.1, lon: 121.5, radius_m: 0}}",
            "effects[0].select.near: (31.1, 121.5) is outside every configured district "
            "(杨浦区 (yangpu))",
        ),
        (
            "duration: 10m",
            "duration: 10m\ntime_of_day: 14:00",
            "time_of_day: write the time in quotes, like '14:00' (YAML read it as 840)",
        ),
    ],
)
def test_each_mistake_names_file_and_key(
    tmp_path: Path, registry: Registry, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    problems = _problems(tmp_path, registry, {"drill.yaml": GOOD.replace(old, new, 1)})
    assert any(p.startswith(f"scenarios/drill.yaml: {expected}") for p in problems), problems


def test_a_misspelt_metric_gives_one_problem_not_a_cascade(
    tmp_path: Path, registry: Registry
) -> None:
    problems = _problems(
        tmp_path, registry, {"drill.yaml": GOOD.replace("metric: pressure\n", "metric: presure\n")}
    )
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "grade: yellow",
            "grade: orange",
            "expected_alerts[0].grade: smoke_detector.smoke_obscuration has no orange threshold "
            "by default (above: blue, yellow)",
        ),
        (
            "metric: smoke_obscuration\n    add: 4",
            "metric: smoke_alarm\n    multiply: 2",
            "effects[0].multiply: smoke_detector.smoke_alarm is a state (0/1): only 'set: 0' or "
            "'set: 1' applies",
        ),
        (
            "metric: smoke_obscuration\n    add: 4",
            "metric: smoke_alarm\n    set: 0.5",
            "effects[0].set: 0.5 is not a state: smoke_detector.smoke_alarm takes 0 or 1",
        ),
    ],
)
def test_grades_and_states_are_checked_against_the_type(
    tmp_path: Path, registry: Registry, old: str, new: str, expected: str
) -> None:
    text = SMOKE.replace("metric: pressure, subdistrict", "metric: smoke_obscuration, subdistrict")
    text = text.replace("type: water_main_pressure, metric", "type: smoke_detector, metric")
    assert _drill(registry, text).name == "drill"  # the base of these cases is valid
    problems = _problems(tmp_path, registry, {"drill.yaml": text.replace(old, new, 1)})
    assert any(p.startswith(f"scenarios/drill.yaml: {expected}") for p in problems), problems


def test_counters_cannot_be_changed(tmp_path: Path, registry: Registry) -> None:
    text = GOOD.replace(
        "{type: water_main_pressure, subdistricts", "{type: water_flow_meter, subdistricts"
    )
    text = text.replace("metric: pressure\n", "metric: volume\n")
    problems = _problems(tmp_path, registry, {"drill.yaml": text})
    assert problems[0].startswith(
        "scenarios/drill.yaml: effects[0].metric: water_flow_meter.volume is a counter"
    )


def test_duplicate_names_and_every_problem_of_every_file_at_once(
    tmp_path: Path, registry: Registry
) -> None:
    broken = GOOD.replace("name: drill", "name: other").replace("share: 1.0", "share: 2")
    broken = broken.replace("grade: yellow", "grade: purple")
    problems = _problems(
        tmp_path, registry, {"a.yaml": GOOD, "b.yaml": GOOD, "c.yaml": broken, "d.yaml": "- 1\n"}
    )
    assert (
        "scenarios/b.yaml: name: duplicate scenario 'drill': already defined in "
        + ("scenarios/a.yaml")
        in problems
    )
    assert any(p.startswith("scenarios/c.yaml: effects[0].select.share") for p in problems)
    assert any(p.startswith("scenarios/c.yaml: expected_alerts[0].grade") for p in problems)
    assert any(p.startswith("scenarios/d.yaml: expected a mapping") for p in problems)


def test_scenario_error_is_a_schema_error_and_an_empty_folder_has_no_scenarios(
    tmp_path: Path, registry: Registry
) -> None:
    assert issubclass(ScenarioError, SchemaError)
    assert load_scenarios(registry, _write(tmp_path, {})) == {}
    with pytest.raises(ScenarioError, match="not a directory"):
        load_scenarios(registry, tmp_path / "missing")
    assert SCENARIOS_DIR.is_dir()
