"""Broken rule files: every problem names its file and dotted key, all reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.rules.files import load_rule_files
from schemas.errors import Problem
from schemas.registry import Registry
from tests.alerts.rule_file_helpers import PRESSURE_BELOW, RULE, problems_of, write

# --- broken files: each problem names its file and dotted key ------------------------------

BROKEN: list[tuple[str, str, str, str]] = [
    (
        "unknown type",
        """
        rules:
          - {id: r, type: water_main_presure, metric: pressure, below: {yellow: 0.2}}
        """,
        "rules[0].type",
        "unknown sensor type 'water_main_presure'; did you mean 'water_main_pressure'?",
    ),
    (
        "unknown metric",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: presure, below: {yellow: 0.2}}
        """,
        "rules[0].metric",
        "unknown metric 'presure' of water_main_pressure (one of: pressure, battery)",
    ),
    (
        "grades in the wrong order",
        """
        rules:
          - id: r
            type: water_main_pressure
            metric: pressure
            below: {yellow: 0.20, orange: 0.25}
        """,
        "rules[0].below.orange",
        "orange (0.25) must be below yellow (0.2): more severe grades need worse values",
    ),
    (
        "threshold outside the physical range",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, above: {red: 2.5}}
        """,
        "rules[0].above.red",
        "2.5 is outside the physical range [0, 1.6] MPa",
    ),
    (
        "recovery on the wrong side",
        """
        rules:
          - id: r
            type: water_main_pressure
            metric: pressure
            above: {orange: 0.6, recovery: {orange: 0.65}}
        """,
        "rules[0].above.recovery.orange",
        "recovery (0.65) must be at or below the orange threshold (0.6)",
    ),
    (
        "recovery for a grade with no threshold",
        """
        rules:
          - id: r
            type: water_main_pressure
            metric: pressure
            above: {orange: 0.6, recovery: {red: 0.5}}
        """,
        "rules[0].above.recovery.red",
        "there is no red threshold to recover from",
    ),
    (
        "two conditions",
        """
        rules:
          - id: r
            type: water_main_pressure
            metric: pressure
            above: {orange: 0.6}
            below: {orange: 0.16}
        """,
        "rules[0]",
        "declare exactly one condition",
    ),
    (
        "no condition",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure}
        """,
        "rules[0]",
        "found none",
    ),
    (
        "override of an unknown rule",
        """
        overrides:
          - rule: default:water_main_pressure:pressure:belw
            hold: 1m
        """,
        "overrides[0].rule",
        f"did you mean {PRESSURE_BELOW!r}?",
    ),
    (
        "overlapping variants",
        f"""
        overrides:
          - rule: {PRESSURE_BELOW}
            subdistricts: [yinhang, daqiao]
            hold: 1m
          - rule: {PRESSURE_BELOW}
            subdistricts: [daqiao]
            hold: 3m
        """,
        "overrides[1].subdistricts",
        f"overlaps '{PRESSURE_BELOW}@daqiao+yinhang' (rules/broken.yaml overrides[0])",
    ),
    (
        "two whole-type overrides of one rule",
        f"""
        overrides:
          - {{rule: {PRESSURE_BELOW}, hold: 1m}}
          - {{rule: {PRESSURE_BELOW}, keep_firing_for: 1m}}
        """,
        "overrides[1].rule",
        "is already overridden in rules/broken.yaml overrides[0]; merge the two",
    ),
    (
        "override thresholds of a direction the rule does not have",
        f"""
        overrides:
          - {{rule: {PRESSURE_BELOW}, above: {{red: 0.9}}}}
        """,
        "overrides[0].above",
        "has no 'above' thresholds to replace",
    ),
    (
        "unknown subdistrict",
        f"""
        overrides:
          - {{rule: {PRESSURE_BELOW}, subdistricts: [yinhnag], hold: 1m}}
        """,
        "overrides[0].subdistricts[0]",
        "unknown subdistrict 'yinhnag'; did you mean 'yinhang'?",
    ),
    (
        "a default id in rules",
        """
        rules:
          - {id: "default:mine", type: water_main_pressure, metric: pressure, below: {red: 0.1}}
        """,
        "rules[0].id",
        "belong to the defaults",
    ),
    (
        "a counter compared by level",
        """
        rules:
          - {id: r, type: water_flow_meter, metric: volume, above: {red: 1000}}
        """,
        "rules[0].metric",
        "cumulative counter",
    ),
    (
        "hysteresis pushing a recovery level out of range",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, below: {red: 0.1, hysteresis: 2}}
        """,
        "rules[0].below.hysteresis",
        "outside the physical range",
    ),
    (
        "invalid YAML",
        """
        rules:
          - id: r
           type: water_main_pressure
        """,
        "line 4, column 4",
        "invalid YAML",
    ),
    (
        "unknown key",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, abve: {red: 0.9}}
        """,
        "rules[0].abve",
        "unknown key (allowed here: id, type, metric,",
    ),
    (
        "unknown key in a threshold block",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, above: {rde: 0.9}}
        """,
        "rules[0].above.rde",
        "unknown key (allowed here: blue, yellow, orange, red, recovery, hysteresis)",
    ),
    (
        "a missing key",
        """
        rules:
          - {id: r, metric: pressure, above: {red: 0.9}}
        """,
        "rules[0].type",
        "required key is missing",
    ),
    (
        "a city rule without an aggregate",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, subject: city,
             below: {yellow: 0.2}}
        """,
        "rules[0].aggregate",
        "a city rule needs one of: avg, min, max, sum, share_offline",
    ),
    (
        "a city rule narrowed to subdistricts",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, subject: city, aggregate: avg,
             subdistricts: [yinhang], below: {yellow: 0.2}}
        """,
        "rules[0].subdistricts",
        "a city rule covers the whole city (上海市: 杨浦区 (yangpu)); use subject: subdistrict",
    ),
    (
        "a city rule on single sensors",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, subject: city, aggregate: min,
             sensors: [yp-wp-0001], below: {yellow: 0.2}}
        """,
        "rules[0].sensors",
        "a city rule is about places, not single sensors",
    ),
    (
        "a sensor rule with an aggregate",
        """
        rules:
          - {id: r, type: water_main_pressure, metric: pressure, aggregate: avg,
             below: {yellow: 0.2}}
        """,
        "rules[0].aggregate",
        "only subject: subdistrict, district or city rules aggregate",
    ),
    (
        "an override narrowing a city rule to subdistricts",
        """
        rules:
          - {id: city_min, type: water_main_pressure, metric: pressure, subject: city,
             aggregate: min, below: {yellow: 0.2}}
        overrides:
          - {rule: city_min, subdistricts: [yinhang], below: {yellow: 0.25}}
        """,
        "overrides[0].subdistricts",
        "'city_min' is city-wide; it has no subdistricts to narrow",
    ),
    (
        "not a mapping",
        """
        - rules
        """,
        "",
        "expected a mapping with 'rules' and/or 'overrides'",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_a_broken_file_names_file_and_key(
    registry: Registry, tmp_path: Path, text: str, key: str, message: str
) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir, "fine.yaml", RULE + "    below: {yellow: 0.2}\n")
    write(rules_dir, "broken.yaml", text)
    problems = problems_of(registry, rules_dir)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == "rules/broken.yaml"
    assert problem.key == key
    assert message in problem.message
    assert str(problem).startswith(f"rules/broken.yaml: {key}: " if key else "rules/broken.yaml: ")


def test_a_duplicate_id_across_files(registry: Registry, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir, "a.yaml", RULE + "    below: {yellow: 0.2}\n")
    write(rules_dir, "b.yaml", RULE + "    above: {red: 0.9}\n")
    problems = problems_of(registry, rules_dir)
    assert problems == [
        Problem(
            "rules/b.yaml",
            "rules[0].id",
            "duplicate rule id 'my_rule': already defined in rules/a.yaml rules[0]",
        )
    ]


def test_several_problems_in_several_files_are_reported_at_once(
    registry: Registry, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    write(
        rules_dir,
        "a.yaml",
        """
        rules:
          - {id: one, type: water_main_presure, metric: pressure, below: {yellow: 0.2}}
          - id: two
            type: water_main_pressure
            metric: pressure
            above: {orange: 0.9, red: 0.7}
          - {id: three, type: water_main_pressure, metric: pressure, below: {red: 1.9}}
        """,
    )
    write(rules_dir, "sub/b.yml", "rules: [\n")
    write(
        rules_dir,
        "c.yaml",
        f"""
        overrides:
          - {{rule: nope, hold: 1m}}
          - {{rule: {PRESSURE_BELOW}, sensors: ["bad id!"], hold: 1m}}
        """,
    )
    write(rules_dir, "notes.txt", "not a rule file: ignored")
    problems = problems_of(registry, rules_dir)
    where = [(p.file, p.key) for p in problems]
    assert ("rules/a.yaml", "rules[0].type") in where
    assert ("rules/a.yaml", "rules[1].above.red") in where
    assert ("rules/a.yaml", "rules[2].below.red") in where
    assert ("rules/sub/b.yml", "line 2, column 1") in where
    assert ("rules/c.yaml", "overrides[0].rule") in where
    assert ("rules/c.yaml", "overrides[1].sensors[0]") in where
    assert all(p.file != "rules/notes.txt" for p in problems)
    assert len({p.file for p in problems}) == 3


def test_files_in_subfolders_load_too(registry: Registry, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir, "water/extra.yaml", RULE + "    below: {yellow: 0.2}\n")
    rule_set = load_rule_files(registry, rules_dir)
    assert rule_set.rules["my_rule"].source == "rules/water/extra.yaml"
