"""Rule files: the shipped ones, overrides and the most specific scope, hot reload."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.errors import RuleError
from alerts.rules.defaults import default_rules
from alerts.rules.files import RULES_DIR, load_rule_files, reload
from alerts.rules.rule import ConditionKind, Rule, SubjectKind
from alerts.rules.rule_set import RuleSet, changed_rule_ids
from schemas.geography import GEOGRAPHY_DIR, load_geography
from schemas.registry import Registry
from schemas.sensor_type import Grade
from tests.alerts.rule_file_helpers import PRESSURE_BELOW, RULE, ids, problems_of, write

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
    assert ids(rule_set.vital_sign_rules_for(SubjectKind.SUBDISTRICT, "yinhang")) == {
        "parking_subdistrict_nearly_full",
        "water_pressure_gauges_offline",
    }
    assert ids(rule_set.vital_sign_rules_for(SubjectKind.DISTRICT)) == {
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


def test_subdistricts_in_rules_are_those_of_the_configured_geography(
    registry: Registry, tmp_path: Path
) -> None:
    hongkou = load_geography([GEOGRAPHY_DIR / "examples" / "hongkou.geojson"])
    rules_dir = tmp_path / "rules"
    write(
        rules_dir,
        "hk.yaml",
        f"""
        overrides:
          - {{rule: {PRESSURE_BELOW}, subdistricts: [tilanqiao], hold: 1m}}
        rules:
          - {{id: hk_parking, type: parking_lot_counter, metric: occupancy, subject: district,
              aggregate: avg, above: {{orange: 95}}, subdistricts: [beiwaitan]}}
        """,
    )
    with pytest.raises(RuleError) as caught:
        load_rule_files(registry, rules_dir, hongkou)
    problems = {p.key: p.message for p in caught.value.problems}
    assert problems == {
        "rules[0].subdistricts": (
            "a district rule covers each whole district (虹口区 (hongkou)); "
            "use subject: subdistrict"
        )
    }
    # Against the shipped geography Hongkou's codes are unknown (with reload, too).
    write(
        rules_dir, "hk.yaml", f"overrides: [{{rule: {PRESSURE_BELOW}, subdistricts: [tilanqiao]}}]"
    )
    assert [p.key for p in problems_of(registry, rules_dir)] == ["overrides[0].subdistricts[0]"]
    rule_set = load_rule_files(registry, rules_dir, hongkou)
    assert any(r.scope.subdistricts == frozenset({"tilanqiao"}) for r in rule_set)
    result = reload(rule_set, rules_dir, load_geography())
    assert isinstance(result, list)
    assert result[0].message.startswith("unknown subdistrict 'tilanqiao'")
