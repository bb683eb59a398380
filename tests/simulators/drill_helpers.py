"""Scenario files, fleets and threshold arithmetic for the scenario tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from schemas.geography import load_geography
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Metric, MetricKind
from simulators.model import Effect, SimSensor
from simulators.scenarios import (
    Scenario,
    ScenarioError,
    load_scenarios,
    parse_scenario,
)

GEOGRAPHY = load_geography()  # the shipped default: the drills name its places
SHIPPED = {
    "water_main_burst",
    "heatwave_grid_stress",
    "stadium_event",
    "building_fire",
    "flash_flood",
}
STADIUM = (31.3000, 121.5170)
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180  # along a meridian

GOOD = """\
name: drill
display_name: {zh: 演练, en: Drill}
description: A test drill.
duration: 10m
effects:
  - select: {type: water_main_pressure, subdistricts: [yinhang], share: 1.0}
    metric: pressure
    multiply: 0.6
    ramp_in: 2m
    ramp_out: 4m
expected_alerts:
  - {type: water_main_pressure, metric: pressure, subdistrict: yinhang, grade: yellow, within: 5m}
"""

# The same drill on smoke detectors.
SMOKE = GOOD.replace(
    "{type: water_main_pressure, subdistricts: [yinhang], share: 1.0}\n    metric: pressure",
    "{type: smoke_detector, subdistricts: [yinhang], share: 1.0}\n    metric: smoke_obscuration",
).replace("multiply: 0.6", "add: 4")


# --- helpers ----------------------------------------------------------------------------------


def _sensor(
    registry: Registry,
    type_name: str,
    sensor_id: str,
    subdistrict: str = "yinhang",
    at: tuple[float, float] | None = None,
) -> SimSensor:
    centre = GEOGRAPHY.subdistricts[subdistrict]
    lat, lon = at if at is not None else (centre.lat, centre.lon)
    return SimSensor(sensor_id, registry.types[type_name], subdistrict, lat, lon)


def _default_fleet(registry: Registry) -> list[SimSensor]:
    """A fleet of the default density (per_subdistrict x hotspot), every sensor at its centre."""
    fleet: list[SimSensor] = []
    for sensor_type in registry:
        sim = sensor_type.simulator
        for district in GEOGRAPHY:
            count = round(sim.per_subdistrict * sim.hotspots.get(district.code, 1.0))
            prefix = f"t-{sensor_type.name}-{district.code}"
            fleet.extend(
                _sensor(registry, sensor_type.name, f"{prefix}-{n}", district.code)
                for n in range(count)
            )
    return fleet


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _problems(tmp_path: Path, registry: Registry, files: dict[str, str]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(registry, _write(tmp_path, files))
    return [str(p) for p in caught.value.problems]


def _drill(registry: Registry, text: str = GOOD) -> Scenario:
    return parse_scenario(text, "scenarios/drill.yaml", registry)


def _grade(metric: Metric, value: float) -> int:
    """Index in GRADES_BY_SEVERITY of the worst grade `value` reaches (-1: none)."""
    reached = -1
    thresholds = metric.thresholds
    assert thresholds is not None
    for direction, levels in (("above", thresholds.above), ("below", thresholds.below)):
        for grade, limit in levels.levels() if levels is not None else []:
            if value >= limit if direction == "above" else value <= limit:
                reached = max(reached, GRADES_BY_SEVERITY.index(grade))
    return reached


def _hold_s(metric: Metric) -> float:
    thresholds = metric.thresholds
    assert thresholds is not None
    holds = [lv.hold or 0.0 for lv in (thresholds.above, thresholds.below) if lv is not None]
    return max(holds, default=0.0)


def _reading(metric: Metric, effect: Effect | None, value: float) -> float:
    value = value if effect is None else effect.apply(value)
    if metric.kind is MetricKind.STATE:
        return 1.0 if value >= 0.5 else 0.0
    return min(max(value, metric.range.min), metric.range.max)
