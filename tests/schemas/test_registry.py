"""The shipped catalogue loads, and every kind of mistake names its file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.errors import RegistryError
from schemas.geography import Geography
from schemas.registry import SENSOR_TYPES_DIR, load_registry, parse_sensor_type
from schemas.sensor_type import MAX_METRICS, Grade
from simulators.fleet import hotspot_warnings

GOOD = (SENSOR_TYPES_DIR / "water_main_pressure.yaml").read_text(encoding="utf-8")


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "sensor_types"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registry(folder)
    return [str(p) for p in caught.value.problems]


def test_shipped_catalogue_has_at_least_twelve_types_across_all_domains() -> None:
    registry = load_registry()
    assert len(registry) >= 12
    assert {t.domain for t in registry} >= {"buildings", "water", "power", "parking"}
    assert {t.domain for t in registry} <= set(registry.domains)
    for name in ("water_main_pressure", "distribution_transformer", "parking_lot_counter"):
        assert name in registry


def test_every_shipped_type_has_bilingual_names_and_graded_thresholds() -> None:
    registry = load_registry()
    for sensor_type in registry:
        assert sensor_type.display_name.zh
        assert sensor_type.display_name.en
        graded = [
            metric for metric in sensor_type.metrics.values() if metric.thresholds is not None
        ]
        assert graded, f"{sensor_type.name} declares no alert thresholds"
    pressure = registry.metric("water_main_pressure", "pressure")
    assert pressure is not None
    assert pressure.thresholds is not None
    assert pressure.thresholds.below is not None
    assert [g for g, _ in pressure.thresholds.below.levels()] == list(Grade)


def test_wrong_unit_names_file_key_and_suggests_the_right_spelling(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"p.yaml": GOOD.replace("unit: MPa", "unit: Mpa")})
    problems = _problems(folder)
    assert problems == [
        "sensor_types/p.yaml: metrics.pressure.unit: unknown unit 'Mpa'; did you mean 'MPa'?"
    ]


def test_missing_metrics_key_is_named(tmp_path: Path) -> None:
    text = GOOD.split("metrics:")[0] + "simulator:\n  per_subdistrict: 1\n"
    problems = _problems(_folder(tmp_path, {"p.yaml": text}))
    assert problems == ["sensor_types/p.yaml: metrics: required key is missing"]


def test_empty_metrics_mapping_is_rejected(tmp_path: Path) -> None:
    text = GOOD.split("metrics:")[0] + "metrics: {}\n"
    problems = _problems(_folder(tmp_path, {"p.yaml": text}))
    assert len(problems) == 1
    assert problems[0].startswith("sensor_types/p.yaml: metrics: ")


def with_metrics(count: int) -> str:
    """GOOD with `count` pressure-like metrics in place of its own."""
    metric = "  m{i}:\n    display_name: {{zh: 压力, en: Pressure}}\n    unit: MPa\n"
    metric += "    range: {{min: 0, max: 1.6}}\n    precision: 3\n"
    head, _, tail = GOOD.partition("metrics:\n")
    rest = tail[tail.index("\nsimulator:") + 1 :]
    return head + "metrics:\n" + "".join(metric.format(i=i) for i in range(count)) + rest


def test_more_metrics_than_the_cap_are_refused_with_the_cap(tmp_path: Path) -> None:
    assert len(parse_sensor_type(with_metrics(MAX_METRICS), "posted").metrics) == MAX_METRICS
    problems = _problems(_folder(tmp_path, {"p.yaml": with_metrics(MAX_METRICS + 1)}))
    assert problems == [
        f"sensor_types/p.yaml: metrics: at most {MAX_METRICS} metrics per sensor type, "
        f"not {MAX_METRICS + 1}"
    ]


def test_threshold_outside_physical_range_names_the_grade(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"p.yaml": GOOD.replace("red: 0.80", "red: 1.9")})
    assert _problems(folder) == [
        "sensor_types/p.yaml: metrics.pressure.thresholds.above.red: "
        "1.9 is outside the physical range [0, 1.6] MPa"
    ]


def test_grades_out_of_order_are_rejected(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"p.yaml": GOOD.replace("orange: 0.16", "orange: 0.21")})
    problems = _problems(folder)
    assert problems == [
        "sensor_types/p.yaml: metrics.pressure.thresholds.below.orange: orange (0.21) must be "
        "below yellow (0.2): more severe grades need worse values",
    ]


def test_duplicate_type_name_across_files_names_both(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a.yaml": GOOD, "b.yaml": GOOD})
    assert _problems(folder) == [
        "sensor_types/b.yaml: name: duplicate sensor type 'water_main_pressure': "
        "already defined in sensor_types/a.yaml"
    ]


def test_duplicate_metric_key_in_one_file_is_not_silently_dropped(tmp_path: Path) -> None:
    battery = GOOD[GOOD.index("  battery:") : GOOD.index("simulator:\n  per_subdistrict")]
    text = GOOD.replace("simulator:\n  per_subdistrict", battery + "simulator:\n  per_subdistrict")
    problems = _problems(_folder(tmp_path, {"p.yaml": text}))
    assert len(problems) == 1
    pattern = r"sensor_types/p\.yaml: line \d+, column 3: invalid YAML: duplicate key 'battery'"
    assert re.match(pattern, problems[0])


def test_misspelt_key_is_reported_as_unknown(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"p.yaml": GOOD.replace("precision: 3", "precison: 3")})
    problems = _problems(folder)
    unknown = "sensor_types/p.yaml: metrics.pressure.precison: unknown key"
    assert any(p.startswith(unknown) for p in problems)
    assert "sensor_types/p.yaml: metrics.pressure.precision: required key is missing" in problems


def test_broken_yaml_syntax_names_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"p.yaml": "name: [unclosed\n"})
    problems = _problems(folder)
    assert problems[0].startswith("sensor_types/p.yaml: line ")
    assert "invalid YAML" in problems[0]


def test_all_problems_in_all_files_are_reported_together(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "a.yaml": GOOD.replace("unit: MPa", "unit: Bar"),
            "b.yaml": GOOD.replace("name: water_main_pressure", "name: other").replace(
                "domain: water", "domain: gas"
            ),
        },
    )
    problems = _problems(folder)
    assert any(p.startswith("sensor_types/a.yaml: metrics.pressure.unit") for p in problems)
    assert any(p.startswith("sensor_types/b.yaml: domain: ") for p in problems)


def test_unknown_hotspot_subdistrict_is_named_against_the_geography(
    tmp_path: Path, geography: Geography
) -> None:
    # The registry alone has no geography: the check runs where both are known.
    text = GOOD.replace("hotspots: {yinhang: 2.0}", "hotspots: {lujiazui: 2.0}")
    registry = load_registry(_folder(tmp_path, {"p.yaml": text}))
    [problem] = [str(p) for p in hotspot_warnings(registry, geography)]
    assert problem.startswith("sensor_types/p.yaml: simulator.hotspots.lujiazui: unknown")


def test_parse_single_document_for_api_posts() -> None:
    sensor_type = parse_sensor_type(GOOD, "posted.yaml")
    assert sensor_type.reporting_interval == 60.0
    text = GOOD.replace("reporting_interval: 60s", "reporting_interval: soon")
    with pytest.raises(RegistryError, match=r"posted\.yaml: reporting_interval: "):
        parse_sensor_type(text, "posted.yaml")


def test_a_vital_metric_that_the_type_lacks_is_named_with_the_metrics(tmp_path: Path) -> None:
    text = GOOD.replace("\nmetrics:\n", "\nvital: presure\nmetrics:\n", 1)
    [problem] = _problems(_folder(tmp_path, {"water_main_pressure.yaml": text}))
    assert "water_main_pressure.yaml" in problem
    assert problem == (
        "sensor_types/water_main_pressure.yaml: "
        "vital: 'presure' is not one of its metrics (pressure, battery)"
    )
