"""Rule files: loading, every problem with its file and dotted key, overrides, hot reload."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.errors import RuleError
from alerts.rule_files import RULES_DIR, load_rule_files, reload
from alerts.rule_set import RuleSet, changed_rule_ids
from alerts.rules import ConditionKind, Rule, SubjectKind, default_rules
from schemas.errors import Problem, SchemaError
from schemas.registry import Registry
from schemas.sensor_type import Grade

PRESSURE_BELOW = "default:water_main_pressure:pressure:below"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(registry: Registry, directory: Path) -> list[Problem]:
    with pytest.raises(RuleError) as caught:
        load_rule_files(registry, directory)
    assert isinstance(caught.value, SchemaError)  # same CLI output as the registry
    return caught.value.problems


def ids(rules: list[Rule]) -> set[str]:
    return {rule.id for rule in rules}


# --- the shipped rule files ----------------------------------------------------------------


def test_the_shipped_rule_files_load(registry: Registry) -> None:
    rule_set = load_rule_files(registry, RULES_DIR)
    defaults = default_rules(registry)
    assert ids(defaults) <= set(rule_set.rules)
    added = set(rule_set.rules) - ids(defaults)
    assert added == {
        "parking_subdistrict_nearly_full",
        "transformer_overload_district",
        "transformer_overload_sustained",
        "water_pressure_fast_drop",
        "water_pressure_district_minimum",
        "water_pressure_gauges_offline",
        "water_pressure_stuck",
        f"{PRESSURE_BELOW}@yinhang",
        f"{PRESSURE_BELOW}@sensor:yp-wp-0002",
    }
    smoke = rule_set.rules["default:smoke_detector:absence"]
    assert smoke.condition.intervals == 6
    assert smoke.condition.silence == timedelta(hours=6)
    assert smoke.source == "rules/vital_signs.yaml"
    fast = rule_set.rules["water_pressure_fast_drop"]
    assert fast.condition.kind is ConditionKind.RATE_OF_CHANGE
    assert fast.condition.window == timedelta(minutes=5)
    assert fast.timing.hold == fast.timing.keep_firing_for == timedelta(minutes=2)
    stuck = rule_set.rules["water_pressure_stuck"]
    assert (stuck.condition.unchanged_for, stuck.condition.grade) == (
        timedelta(hours=2),
        Grade.BLUE,
    )
    offline = rule_set.rules["water_pressure_gauges_offline"]
    assert offline.subject_kind is SubjectKind.SUBDISTRICT
    assert offline.metric is None


def test_overrides_narrow_and_the_most_specific_applies(registry: Registry) -> None:
    rule_set = load_rule_files(registry, RULES_DIR)

    def pressure_below(subdistrict: str, sensor: str) -> Rule:
        chosen = [
            r
            for r in rule_set.rules_for("water_main_pressure", subdistrict, sensor)
            if r.family == PRESSURE_BELOW
        ]
        assert len(chosen) == 1  # one member of a family per sensor
        return chosen[0]

    elsewhere = pressure_below("daqiao", "yp-wp-0100")
    assert elsewhere.id == PRESSURE_BELOW
    yinhang = pressure_below("yinhang", "yp-wp-0001")
    assert yinhang.id == f"{PRESSURE_BELOW}@yinhang"
    assert yinhang.overrides == PRESSURE_BELOW
    assert yinhang.condition.below is not None
    assert yinhang.condition.below.thresholds == (0.24, 0.21, 0.17, 0.13)
    assert yinhang.timing.hold == timedelta(minutes=2)  # kept from the overridden rule
    assert yinhang.condition.above is None
    one = pressure_below("yinhang", "yp-wp-0002")  # in Yinhang too: the sensor wins
    assert one.id == f"{PRESSURE_BELOW}@sensor:yp-wp-0002"
    assert one.condition.below is not None
    assert one.condition.below.grades == (Grade.YELLOW, Grade.ORANGE, Grade.RED)
    assert one.timing.hold == timedelta(minutes=5)
    # Other rules of the type are unaffected.
    chosen = ids(rule_set.rules_for("water_main_pressure", "yinhang", "yp-wp-0002"))
    assert {
        "default:water_main_pressure:pressure:above",
        "default:water_main_pressure:battery:below",
        "default:water_main_pressure:absence",
        "water_pressure_fast_drop",
        "water_pressure_stuck",
    } <= chosen
    assert "water_pressure_gauges_offline" not in chosen  # a vital sign, not a sensor rule
    assert rule_set.rules_for("no_such_type", "yinhang", "x") == []


def test_vital_sign_rules(registry: Registry) -> None:
    rule_set = load_rule_files(registry, RULES_DIR)
    assert ids(rule_set.vital_sign_rules_for("yinhang")) == {
        "parking_subdistrict_nearly_full",
        "water_pressure_gauges_offline",
    }
    assert ids(rule_set.vital_sign_rules_for(None)) == {
        "transformer_overload_district",
        "water_pressure_district_minimum",
    }


def test_a_disabled_override_switches_a_default_off_for_one_subdistrict(
    registry: Registry, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    write(
        rules_dir,
        "quiet.yaml",
        f"""
        overrides:
          - rule: {PRESSURE_BELOW}
            subdistricts: [daqiao]
            disabled: true
        """,
    )
    rule_set = load_rule_files(registry, rules_dir)
    assert PRESSURE_BELOW not in ids(rule_set.rules_for("water_main_pressure", "daqiao", "s1"))
    assert PRESSURE_BELOW in ids(rule_set.rules_for("water_main_pressure", "yinhang", "s1"))
    assert f"{PRESSURE_BELOW}@daqiao" in rule_set  # still in the set, just disabled
    # A sensor-level override inside the disabled subdistrict re-enables it for that sensor.
    write(
        rules_dir,
        "one.yaml",
        f"""
        overrides:
          - rule: {PRESSURE_BELOW}
            id: daqiao_gauge_7
            sensors: [yp-wp-0007]
            disabled: false
        """,
    )
    rule_set = load_rule_files(registry, rules_dir)
    chosen = ids(rule_set.rules_for("water_main_pressure", "daqiao", "yp-wp-0007"))
    assert "daqiao_gauge_7" in chosen
    assert PRESSURE_BELOW not in ids(rule_set.rules_for("water_main_pressure", "daqiao", "s1"))


def test_a_whole_type_override_changes_the_default_and_its_variants_build_on_it(
    registry: Registry, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    # The narrowing override comes first in file order; whole-type overrides apply first.
    write(
        rules_dir,
        "a.yaml",
        f"""
        overrides:
          - rule: {PRESSURE_BELOW}
            subdistricts: [yinhang]
            below: {{yellow: 0.21}}
        """,
    )
    write(
        rules_dir,
        "b.yaml",
        f"""
        overrides:
          - rule: {PRESSURE_BELOW}
            hold: 10m
        """,
    )
    rule_set = load_rule_files(registry, rules_dir)
    base = rule_set.rules[PRESSURE_BELOW]
    variant = rule_set.rules[f"{PRESSURE_BELOW}@yinhang"]
    assert base.timing.hold == variant.timing.hold == timedelta(minutes=10)
    assert base.source == "rules/b.yaml"
    assert variant.source == "rules/a.yaml"
    assert variant.condition.below is not None
    assert variant.condition.below.thresholds == (0.21,)
    assert base.condition.below is not None
    assert base.condition.below.thresholds == (0.22, 0.20, 0.16, 0.12)


def test_an_empty_directory_gives_the_defaults(registry: Registry, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write(rules_dir, "empty.yaml", "")
    rule_set = load_rule_files(registry, rules_dir)
    assert set(rule_set.rules) == ids(default_rules(registry))


def test_not_a_directory(registry: Registry, tmp_path: Path) -> None:
    problems = problems_of(registry, tmp_path / "missing")
    assert [(p.key, p.message) for p in problems] == [("", "not a directory of rule files")]


# --- broken files: each problem names its file and dotted key ------------------------------

RULE = """
rules:
  - id: my_rule
    type: water_main_pressure
    metric: pressure
"""

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


# --- hot reload ----------------------------------------------------------------------------


def test_reload_returns_a_new_rule_set_or_the_problems(registry: Registry, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    path = write(rules_dir, "a.yaml", RULE + "    below: {yellow: 0.2}\n")
    previous = load_rule_files(registry, rules_dir)
    write(rules_dir, "a.yaml", RULE + "    below: {yellow: 0.18}\n")
    fresh = reload(previous, rules_dir)
    assert isinstance(fresh, RuleSet)
    assert fresh is not previous
    below = fresh.rules["my_rule"].condition.below
    assert below is not None
    assert below.thresholds == (0.18,)
    assert fresh.registry is previous.registry

    path.write_text(RULE + "    below: {yellow: 0.3, orange: 0.4}\n", encoding="utf-8")
    broken = reload(fresh, rules_dir)
    assert isinstance(broken, list)
    assert [(p.file, p.key) for p in broken] == [("rules/a.yaml", "rules[0].below.orange")]
    # The caller keeps the previous set, which is untouched.
    kept = fresh.rules["my_rule"].condition.below
    assert kept is not None
    assert kept.thresholds == (0.18,)


def test_changed_rule_ids_reports_only_changed_added_and_removed(
    registry: Registry, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    write(
        rules_dir,
        "a.yaml",
        f"""
        rules:
          - {{id: same, type: water_main_pressure, metric: pressure, below: {{yellow: 0.2}}}}
          - {{id: edited, type: water_main_pressure, metric: pressure, below: {{yellow: 0.2}}}}
          - {{id: dropped, type: water_main_pressure, metric: pressure, below: {{yellow: 0.2}}}}
        overrides:
          - {{rule: {PRESSURE_BELOW}, hold: 5m}}
        """,
    )
    old = load_rule_files(registry, rules_dir)
    write(
        rules_dir,
        "a.yaml",
        f"""
        rules:
          - {{id: same, type: water_main_pressure, metric: pressure, below: {{yellow: 0.2}}}}
          - {{id: edited, type: water_main_pressure, metric: pressure, below: {{yellow: 0.19}}}}
          - {{id: added, type: water_main_pressure, metric: pressure, below: {{yellow: 0.2}}}}
        overrides:
          - {{rule: {PRESSURE_BELOW}, hold: 6m}}
        """,
    )
    new = load_rule_files(registry, rules_dir)
    assert changed_rule_ids(old, new) == {"edited", "dropped", "added", PRESSURE_BELOW}
    assert changed_rule_ids(new, new) == frozenset()


def test_moving_a_rule_to_another_file_is_no_change(registry: Registry, tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    a = write(rules_dir, "a.yaml", RULE + "    below: {yellow: 0.2}\n")
    old = load_rule_files(registry, rules_dir)
    a.unlink()
    write(rules_dir, "b.yaml", RULE + "    below: {yellow: 0.2}\n")
    new = load_rule_files(registry, rules_dir)
    assert new.rules["my_rule"].source == "rules/b.yaml"
    assert old.rules["my_rule"].source == "rules/a.yaml"
    assert changed_rule_ids(old, new) == frozenset()
    # The same rule loaded twice compares equal, so an unchanged reload changes nothing.
    shipped = load_rule_files(registry, RULES_DIR)
    assert changed_rule_ids(shipped, load_rule_files(registry, RULES_DIR)) == frozenset()
