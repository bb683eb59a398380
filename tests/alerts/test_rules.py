"""Rules derived from the sensor-type registry, recovery levels, and held grades."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.model import Subject
from alerts.rules.defaults import DEFAULT_ABSENCE_GRADE, DEFAULT_ABSENCE_INTERVALS, default_rules
from alerts.rules.rule import (
    ConditionKind,
    Direction,
    Levels,
    Rule,
    Scope,
    SubjectKind,
    build_levels,
    default_margin,
)
from schemas.errors import RegistryError
from schemas.grades import GRADE_RANK
from schemas.registry import Registry, load_registry, parse_sensor_type
from schemas.sensor_type import Grade

BLUE, YELLOW, ORANGE, RED = (
    GRADE_RANK[g] for g in (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)
)
NONE = -1


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def rules(shipped: Registry) -> dict[str, Rule]:
    return {rule.id: rule for rule in default_rules(shipped)}


def test_one_rule_per_type_metric_direction_plus_one_absence_rule_per_type(
    shipped: Registry, rules: dict[str, Rule]
) -> None:
    expected: set[str] = set()
    for sensor_type in shipped:
        expected.add(f"default:{sensor_type.name}:absence")
        for name, metric in sensor_type.metrics.items():
            if metric.thresholds is None:
                continue
            for direction in ("above", "below"):
                levels = getattr(metric.thresholds, direction)
                if levels is not None and levels.levels():
                    expected.add(f"default:{sensor_type.name}:{name}:{direction}")
    assert set(rules) == expected
    assert len(default_rules(shipped)) == len(expected)  # no duplicates
    absence = [r for r in rules.values() if r.condition.kind is ConditionKind.ABSENCE]
    assert len(absence) == len(shipped)
    # Spot checks against the YAML: water pressure has both directions, battery only below,
    # and a metric without thresholds (the energy meter's energy counter) has no rule.
    assert "default:water_main_pressure:pressure:above" in rules
    assert "default:water_main_pressure:pressure:below" in rules
    assert "default:water_main_pressure:battery:below" in rules
    assert "default:water_main_pressure:battery:above" not in rules
    assert not any(i.startswith("default:building_energy_meter:energy:") for i in rules)


def test_threshold_rules_follow_the_yaml(rules: dict[str, Rule]) -> None:
    rule = rules["default:water_main_pressure:pressure:below"]
    assert rule.metric == "pressure"
    assert rule.domain == "water"
    assert rule.scope == Scope("water_main_pressure")
    assert rule.subject_kind is SubjectKind.SENSOR
    assert rule.condition.kind is ConditionKind.BELOW
    assert rule.condition.above is None
    below = rule.condition.below
    assert below is not None
    assert below.direction is Direction.BELOW
    assert below.grades == (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)
    assert below.thresholds == (0.22, 0.20, 0.16, 0.12)
    # Symmetric debounce: keep_firing_for defaults to hold (2m in the YAML).
    assert rule.timing.hold == rule.timing.keep_firing_for == timedelta(minutes=2)
    assert rule.grades == (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)
    # A rule without a hold fires at once.
    battery = rules["default:water_main_pressure:battery:below"]
    assert battery.timing.hold == battery.timing.keep_firing_for == timedelta(0)
    assert battery.grades == (Grade.BLUE, Grade.YELLOW)


def test_absence_rules(shipped: Registry, rules: dict[str, Rule]) -> None:
    for sensor_type in shipped:
        rule = rules[f"default:{sensor_type.name}:absence"]
        cond = rule.condition
        assert rule.metric is None
        assert cond.intervals == DEFAULT_ABSENCE_INTERVALS == 3
        assert cond.silence == timedelta(seconds=3 * sensor_type.reporting_interval)
        assert cond.grade is DEFAULT_ABSENCE_GRADE is Grade.YELLOW
        assert rule.timing.hold == rule.timing.keep_firing_for == timedelta(0)
        assert rule.domain == sensor_type.domain
        assert rule.grades == (Grade.YELLOW,)
    assert rules["default:smoke_detector:absence"].condition.silence == timedelta(hours=3)


# --- recovery levels -----------------------------------------------------------------------


def test_recovery_margin_is_two_percent_of_the_range(rules: dict[str, Rule]) -> None:
    # Load 0..200 %: 2 % of the range is 4, less than half the smallest gap (10 / 2 = 5).
    above = rules["default:distribution_transformer:load:above"].condition.above
    assert above is not None
    assert above.thresholds == (80, 90, 100, 120)
    assert above.recoveries == (76, 86, 96, 116)
    # Pressure above: 0.6, 0.8 on 0..1.6 MPa: 0.032 (gap 0.2 allows 0.1).
    pressure = rules["default:water_main_pressure:pressure:above"].condition.above
    assert pressure is not None
    assert pressure.recoveries == (0.568, 0.768)


def test_recovery_margin_is_capped_at_half_the_smallest_gap(rules: dict[str, Rule]) -> None:
    # 0.22, 0.20, 0.16, 0.12 on 0..1.6: 2 % would be 0.032, but the 0.02 gap caps it at 0.01,
    # so leaving blue (0.23) never needs the value past yellow's threshold.
    below = rules["default:water_main_pressure:pressure:below"].condition.below
    assert below is not None
    assert below.recoveries == (0.23, 0.21, 0.17, 0.13)  # rounded: 0.22 + 0.01 is 0.23
    # Voltage above: gaps 4.4, 6.6, 11 on 0..300 V: 6 capped at 2.2.
    voltage = rules["default:distribution_transformer:voltage_a:above"].condition.above
    assert voltage is not None
    assert voltage.recoveries == (228.8, 233.2, 239.8, 250.8)


def test_every_default_recovery_level_follows_the_rule(
    shipped: Registry, rules: dict[str, Rule]
) -> None:
    checked = 0
    for rule in rules.values():
        assert rule.metric is not None or rule.condition.kind is ConditionKind.ABSENCE
        if rule.metric is None:
            continue
        metric = shipped.types[rule.scope.type_name].metrics[rule.metric]
        lo, hi = metric.range.min, metric.range.max
        for levels in (rule.condition.above, rule.condition.below):
            if levels is None:
                continue
            gaps = [abs(b - a) for a, b in itertools.pairwise(levels.thresholds)]
            margin = min([0.02 * (hi - lo), *(g / 2 for g in gaps)])
            sign = -1 if levels.direction is Direction.ABOVE else 1
            for threshold, recovery in zip(levels.thresholds, levels.recoveries, strict=True):
                want = min(max(threshold + sign * margin, lo), hi)
                assert recovery == pytest.approx(want, abs=1e-9), (rule.id, threshold)
                # On the safe side of its threshold, and never past the next milder one.
                assert (recovery <= threshold) if sign < 0 else (recovery >= threshold)
            for milder, recovery in zip(levels.thresholds, levels.recoveries[1:], strict=False):
                assert (recovery >= milder) if sign < 0 else (recovery <= milder), rule.id
            checked += 1
    assert checked > 40


def test_default_margin_without_a_range_is_ten_percent_of_the_mildest_threshold() -> None:
    assert default_margin([-0.02, -0.05], None) == pytest.approx(0.002)
    assert default_margin([50.0, 52.0], None) == pytest.approx(1.0)  # 5 capped at 2 / 2
    assert default_margin([50.0, 80.0], 100.0) == pytest.approx(2.0)
    assert default_margin([50.0, 51.0], 100.0) == pytest.approx(0.5)
    assert default_margin([50.0], 100.0) == pytest.approx(2.0)


def test_recovery_levels_are_clamped_to_the_physical_range() -> None:
    above = build_levels(Direction.ABOVE, [(Grade.BLUE, 0.01)], value_range=(0.0, 1.0))
    assert above.recoveries == (0.0,)  # 0.01 - 0.02 would be below the range
    below = build_levels(Direction.BELOW, [(Grade.RED, 99.5)], value_range=(0.0, 100.0))
    assert below.recoveries == (100.0,)


def test_explicit_recovery_and_hysteresis() -> None:
    levels = build_levels(
        Direction.ABOVE,
        [(Grade.YELLOW, 90.0), (Grade.ORANGE, 95.0)],
        value_range=(0.0, 100.0),
        recovery={Grade.ORANGE: 92.0},
        hysteresis=3.0,
    )
    assert levels.recoveries == (87.0, 92.0)
    default = build_levels(
        Direction.ABOVE, [(Grade.YELLOW, 90.0), (Grade.ORANGE, 95.0)], value_range=(0, 100)
    )
    assert default.recoveries == (88.0, 93.0)
    rate = build_levels(Direction.BELOW, [(Grade.YELLOW, -0.02)], value_range=None)
    assert rate.recoveries == (-0.018,)


# --- held grades ---------------------------------------------------------------------------


def load_levels() -> Levels:
    return Levels(
        direction=Direction.ABOVE,
        grades=(Grade.YELLOW, Grade.ORANGE, Grade.RED),
        thresholds=(80.0, 90.0, 100.0),
        recoveries=(75.0, 85.0, 95.0),
    )


@pytest.mark.parametrize(
    ("value", "held", "want"),
    [
        (79.9, NONE, NONE),
        (80.0, NONE, YELLOW),  # reaching the threshold meets the grade
        (99.9, NONE, ORANGE),
        (150.0, NONE, RED),
        (78.0, NONE, NONE),  # inside the band, but nothing held: not met
        (78.0, YELLOW, YELLOW),  # held inside the band
        (75.0, YELLOW, YELLOW),  # at the recovery level: still held
        (74.9, YELLOW, NONE),  # strictly past it: released
        (97.0, RED, RED),
        (97.0, ORANGE, ORANGE),  # red is not held, so 97 is orange
        (94.0, RED, ORANGE),  # past red's recovery, still above orange's
        (84.0, RED, YELLOW),
        (70.0, RED, NONE),
    ],
)
def test_levels_grade_above(value: float, held: int, want: int) -> None:
    assert load_levels().grade(value, held) == want


@pytest.mark.parametrize(
    ("value", "held", "want"),
    [
        (0.221, NONE, NONE),
        (0.22, NONE, BLUE),
        (0.19, NONE, YELLOW),
        (0.10, NONE, RED),
        (0.225, BLUE, BLUE),
        (0.23, BLUE, BLUE),
        (0.231, BLUE, NONE),
        (0.125, RED, RED),
        (0.125, ORANGE, ORANGE),
        (0.135, RED, ORANGE),
    ],
)
def test_levels_grade_below(rules: dict[str, Rule], value: float, held: int, want: int) -> None:
    below = rules["default:water_main_pressure:pressure:below"].condition.below
    assert below is not None
    assert below.grade(value, held) == want


def test_levels_ranks_are_the_global_grade_ranks() -> None:
    assert load_levels().ranks == (YELLOW, ORANGE, RED)
    assert GRADE_RANK[Grade.BLUE] < GRADE_RANK[Grade.YELLOW] < GRADE_RANK[Grade.RED]


def test_rule_labels_and_scope(rules: dict[str, Rule]) -> None:
    rule = rules["default:water_main_pressure:pressure:below"]
    sensor = Subject("sensor", "yp-wp-0001", "water", "yinhang")
    assert rule.labels(sensor) == {
        "rule_id": rule.id,
        "type": "water_main_pressure",
        "domain": "water",
        "metric": "pressure",
        "subdistrict": "yinhang",
        "sensor": "yp-wp-0001",
    }
    absence = rules["default:water_main_pressure:absence"]
    district = Subject("district", "yangpu", "water")
    assert absence.labels(district) == {
        "rule_id": absence.id,
        "type": "water_main_pressure",
        "domain": "water",
    }
    assert rule.family == rule.id
    narrowed = Scope("water_main_pressure", subdistricts=frozenset({"yinhang"}))
    one = Scope("water_main_pressure", sensors=frozenset({"yp-wp-0002"}))
    assert (Scope("x").specificity, narrowed.specificity, one.specificity) == (0, 1, 2)
    assert narrowed.matches("yinhang", "yp-wp-0001")
    assert not narrowed.matches("daqiao", "yp-wp-0001")
    assert one.matches("yinhang", "yp-wp-0002")
    assert not one.matches("yinhang", "yp-wp-0001")


def _pressure_type(below_timing: str) -> Registry:
    """The shipped water-main pressure type with `below_timing` in place of its below hold."""
    path = Path(__file__).parents[2] / "schemas" / "sensor_types" / "water_main_pressure.yaml"
    text = path.read_text(encoding="utf-8")
    below = "        red: 0.12\n        hold: 2m\n"
    assert below in text
    sensor_type = parse_sensor_type(
        text.replace(below, f"        red: 0.12\n{below_timing}", 1), "p.yaml"
    )
    return Registry({sensor_type.name: sensor_type})


@pytest.mark.parametrize(
    ("timing", "hold", "keep"),
    [
        ("        hold: 2m\n        keep_firing_for: 30s\n", 120, 30),
        ("        hold: 2m\n        keep_firing_for: 0s\n", 120, 0),  # stand down at once
        ("        keep_firing_for: 5m\n", 0, 300),  # fire at once, stand down slowly
    ],
)
def test_a_types_thresholds_may_set_keep_firing_for_on_their_own(
    timing: str, hold: float, keep: float
) -> None:
    rules = {rule.id: rule for rule in default_rules(_pressure_type(timing))}
    below = rules["default:water_main_pressure:pressure:below"].timing
    assert (below.hold, below.keep_firing_for) == (timedelta(seconds=hold), timedelta(seconds=keep))
    # The other direction keeps its own hold, and keep_firing_for follows it.
    above = rules["default:water_main_pressure:pressure:above"].timing
    assert above.hold == above.keep_firing_for == timedelta(minutes=2)


def test_a_bad_keep_firing_for_names_its_key() -> None:
    with pytest.raises(RegistryError) as caught:
        _pressure_type("        keep_firing_for: soon\n")
    assert [p.key for p in caught.value.problems] == [
        "metrics.pressure.thresholds.below.keep_firing_for"
    ]
    assert "expected a duration" in caught.value.problems[0].message
