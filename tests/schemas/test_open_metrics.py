"""Metrics that fit real devices: aliases, conversions on ingest, precision and integer metrics,
enumerated states, FIWARE keyValues entities; and each registry mistake named by file and key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.errors import RegistryError
from schemas.registry import load_registry
from schemas.telemetry import Rejection, RejectReason, Report, decode_payload
from schemas.type_validator import TypeValidator
from tests.open_types import (
    AIR_STATION,
    FIWARE_AIR_STORED,
    SPACE_STATE,
    air_station,
    fiware_air,
    space_state,
)

NOW = datetime(2026, 11, 25, 8, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
AIR = TypeValidator(air_station())
SPACE = TypeValidator(space_state())
Checked = tuple[list[tuple[str, float]], list[Rejection]]


def check(validator: TypeValidator, document: dict[str, Any]) -> Checked:
    [(_, report)] = decode_payload(orjson.dumps(document))
    assert isinstance(report, Report), report
    return validator.check(report, now=NOW, max_future=timedelta(minutes=5), max_age=timedelta(1))


def metrics(validator: TypeValidator, values: dict[str, Any]) -> Checked:
    return check(validator, {"ts": NOW_MS, "metrics": values})


def problems(tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "sensor_types"
    folder.mkdir()
    (folder / "t.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(folder)
    return [str(p) for p in caught.value.problems]


# --- aliases ----------------------------------------------------------------------------------


def test_a_payload_under_aliases_lands_in_the_metrics() -> None:
    good, bad = metrics(AIR, {"PM2.5": 35, "relativeHumidity": 55, "temp": 21.04, "CO": 0.8})
    assert bad == []
    assert good == [("pm25", 35.0), ("relative_humidity", 55.0), ("temperature", 21.0), ("co", 0.8)]


def test_unknown_names_list_the_metrics() -> None:
    _, [bad] = metrics(AIR, {"pm10": 3})
    assert bad.reason is RejectReason.UNKNOWN_METRIC
    assert bad.detail == (
        "metrics.pm10: air_station has no metric 'pm10'; expected one of aqi, co, pm25, "
        "relative_humidity, temperature"
    )


def test_an_alias_claimed_twice_names_both_metrics(tmp_path: Path) -> None:
    text = AIR_STATION.replace("aliases: [temp]", "aliases: [temp, rh]")
    assert problems(tmp_path, text) == [
        "sensor_types/t.yaml: metrics.temperature.aliases.1: alias 'rh' of metric 'temperature' "
        "is also an alias of metric 'relative_humidity'"
    ]


def test_an_alias_equal_to_another_metrics_name_names_both(tmp_path: Path) -> None:
    text = AIR_STATION.replace("aliases: [CO]", "aliases: [CO, pm25]")
    assert problems(tmp_path, text) == [
        "sensor_types/t.yaml: metrics.co.aliases.1: alias 'pm25' of metric 'co' is the name of "
        "metric 'pm25'"
    ]


def test_aliases_are_printable_and_short(tmp_path: Path) -> None:
    text = AIR_STATION.replace("aliases: [CO]", 'aliases: ["C\\tO", "' + "x" * 65 + '"]')
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert found[0].startswith("sensor_types/t.yaml: metrics.co.aliases.0: alias 'C\\tO' must be")
    assert found[1].startswith("sensor_types/t.yaml: metrics.co.aliases.1: ")


# --- units on ingest ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"pm25": {"value": 0.035, "unit": "mg/m3"}}, ("pm25", 35.0)),
        ({"co": {"value": 1200, "unit": "µg/m3"}}, ("co", 1.2)),
        ({"co": {"value": 1200, "unit": "GQ"}}, ("co", 1.2)),
        ({"temp": {"value": 104, "unit": "°F"}}, ("temperature", 40.0)),
        ({"temperature": {"value": 283.15, "unit": "K"}}, ("temperature", 10.0)),
        ({"rh": {"value": 0.62, "unit": "1"}}, ("relative_humidity", 62.0)),
        ({"rh": {"value": 0.62, "unit": "fraction"}}, ("relative_humidity", 62.0)),
        ({"rh": 0.62}, ("relative_humidity", 1.0)),  # a plain number is in the declared unit
        ({"relative_humidity": {"value": 62, "unit": "%RH"}}, ("relative_humidity", 62.0)),
        ({"aqi": {"value": 65, "unit": "AQI"}}, ("aqi", 65.0)),
    ],
)
def test_readings_in_another_unit_are_converted(
    sent: dict[str, Any], stored: tuple[str, float]
) -> None:
    good, bad = metrics(AIR, sent)
    assert bad == []
    assert good == [stored]


@pytest.mark.parametrize(
    ("sent", "detail"),
    [
        (
            {"temp": {"value": 3, "unit": "kPa"}},
            "metrics.temp: unit 'kPa' (a pressure) cannot be converted to the declared unit "
            "'°C' (a temperature)",
        ),
        (
            {"aqi": {"value": 3, "unit": "count"}},
            "metrics.aqi: unit 'count' (a count) cannot be converted to the declared unit 'AQI' "
            "(an air-quality index)",
        ),
        (
            {"co": {"value": 3, "unit": "parsnips"}},
            "metrics.co: unknown unit 'parsnips': not a pint unit, nor one of the symbols and "
            "UN/CEFACT codes in schemas/units.py (README: Units and conversions) (the declared "
            "unit is 'mg/m³')",
        ),
    ],
)
def test_wrong_units_are_refused_naming_both(sent: dict[str, Any], detail: str) -> None:
    _, [bad] = metrics(AIR, sent)
    assert (bad.reason, bad.detail) == (RejectReason.WRONG_UNIT, detail)


def test_range_checks_apply_after_conversion() -> None:
    _, [bad] = metrics(AIR, {"temp": {"value": 150, "unit": "°F"}})
    assert bad.reason is RejectReason.OUT_OF_RANGE
    assert bad.detail == (
        "metrics.temp: 150 °F (65.5556 °C) is outside the physical range [-40, 60] °C"
    )


def test_an_unknown_unit_is_learned_once_and_memory_is_bounded() -> None:
    validator = TypeValidator(air_station())
    for n in range(200):
        _, [bad] = metrics(validator, {"co": {"value": 1, "unit": f"junk{n}"}})
        assert bad.reason is RejectReason.WRONG_UNIT
    good, _ = metrics(
        validator, {"co": {"value": 0.1, "unit": "g/m3"}}
    )  # past the bound: still right
    assert good == [("co", 100.0)]


# --- precision and integer metrics ---------------------------------------------------------------


def test_precision_is_applied_on_ingest() -> None:
    good, bad = metrics(AIR, {"temp": 21.2567, "co": 0.04999, "pm25": 35.5, "rh": 44.5})
    assert bad == []
    # Halves go to the even neighbour: 35.5 -> 36, 44.5 -> 44.
    assert good == [("temperature", 21.3), ("co", 0.0), ("pm25", 36.0), ("relative_humidity", 44.0)]


def test_an_integer_metric_that_rejects_fractions_says_so() -> None:
    good, [bad] = metrics(AIR, {"aqi": 65.5, "airQualityIndex": 65.0})
    assert good == [("aqi", 65.0)]
    assert (bad.reason, bad.detail) == (
        RejectReason.WRONG_VALUE_TYPE,
        "metrics.aqi: 65.5 AQI is not a whole number (precision 0, integer: reject)",
    )


def test_integer_reject_needs_precision_0(tmp_path: Path) -> None:
    text = AIR_STATION.replace(
        "precision: 0\n    integer: reject", "precision: 1\n    integer: reject"
    )
    assert problems(tmp_path, text) == [
        "sensor_types/t.yaml: metrics.aqi.integer: 'integer: reject' is for whole-number "
        "metrics; precision is 1 (set precision 0 or remove 'integer')"
    ]


def test_precision_beyond_a_double_is_refused(tmp_path: Path) -> None:
    text = AIR_STATION.replace(
        "range: {min: 0, max: 150}\n    precision: 1",
        "range: {min: 0, max: 1e12}\n    precision: 6",
    )
    [found] = problems(tmp_path, text)
    assert found.startswith("sensor_types/t.yaml: metrics.co.precision: 6 decimals on values up")


# --- enumerated states ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("free", 0.0), ("reserved", 2.0), (3, 3.0), (1.0, 1.0), ("unknown", 3.0)],
)
def test_a_state_is_sent_by_label_or_index_and_stored_as_the_index(
    sent: Any, stored: float
) -> None:
    assert metrics(SPACE, {"occupancy": sent}) == ([("occupancy", stored)], [])


def test_booleans_work_for_two_state_metrics_only() -> None:
    assert metrics(SPACE, {"streetlight": True}) == ([("streetlight", 1.0)], [])
    assert metrics(SPACE, {"streetlight": "off"}) == ([("streetlight", 1.0)], [])
    _, [bad] = metrics(SPACE, {"occupancy": True})
    assert bad.reason is RejectReason.WRONG_VALUE_TYPE
    assert "booleans are only for two-state metrics" in bad.detail


@pytest.mark.parametrize(
    ("sent", "reason", "what"),
    [
        ("parked", RejectReason.WRONG_VALUE_TYPE, "state 'parked' is not declared"),
        (4, RejectReason.OUT_OF_RANGE, "4 state is not a state index"),
        (1.5, RejectReason.WRONG_VALUE_TYPE, "1.5 state is not a state index"),
    ],
)
def test_undeclared_states_are_refused_naming_the_labels(
    sent: Any, reason: RejectReason, what: str
) -> None:
    _, [bad] = metrics(SPACE, {"occupancy": sent})
    assert bad.reason is reason
    assert bad.detail == (
        f"metrics.occupancy: {what}; expected one of free (0), occupied (1), reserved (2), "
        "unknown (3)"
    )


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (
            ("states: [free, occupied, reserved, unknown]", "states: [free, Occupied, free]"),
            [
                "metrics.occupancy.states.1: state 'Occupied' must be snake_case",
                "metrics.occupancy.states.2: state 'free' is declared twice",
                "metrics.occupancy.range: a state metric stores the index of its 3 states: "
                "range must be min 0, max 2",
            ],
        ),
        (
            ('states: ["on", "off"]', "states: [on, off]"),
            ["metrics.streetlight.states: YAML read a label (on, off, yes, no) as a boolean"],
        ),
        (
            ('states: ["on", "off"]', "states: [lit]"),
            [
                "metrics.streetlight.states: declare at least 2 states, not 1",
            ],
        ),
        (
            ("kind: state\n    states: [free", "kind: gauge\n    states: [free"),
            ["metrics.occupancy.states: only a state metric has states (this one is gauge)"],
        ),
    ],
)
def test_bad_state_declarations_name_their_key(
    tmp_path: Path, change: tuple[str, str], found: list[str]
) -> None:
    reported = problems(tmp_path, SPACE_STATE.replace(*change))
    assert len(reported) >= len(found), reported
    for expected in found:
        assert any(p.startswith(f"sensor_types/t.yaml: {expected}") for p in reported), reported


# --- FIWARE keyValues ---------------------------------------------------------------------------


def test_a_fiware_entity_is_mapped_through_the_type() -> None:
    good, bad = check(AIR, fiware_air("2026-11-25T15:30:00+08:00"))
    assert bad == []  # id, type, address, location, source, airQualityLevel, reliability ignored
    assert dict(good) == FIWARE_AIR_STORED


def test_a_fiware_time_is_the_end_of_its_period() -> None:
    [(_, report)] = decode_payload(
        orjson.dumps(fiware_air("2026-11-25T06:00:00Z/2026-11-25T07:00:00Z"))
    )
    assert isinstance(report, Report)
    assert report.ts == datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert (report.type_name, report.data_model, report.seq) == (None, "AirQualityObserved", None)
    noise = {
        "type": "NoiseLevelObserved",
        "dateObservedFrom": "2026-11-25T06:00:00Z",
        "dateObservedTo": "2026-11-25T07:00:00Z",
        "LAeq": 67.8,
    }
    [(_, report)] = decode_payload(orjson.dumps(noise))
    assert isinstance(report, Report)
    assert (report.ts.hour, report.values) == (7, (("LAeq", 67.8),))


def test_a_numeric_attribute_the_type_lacks_is_reported_not_lost() -> None:
    good, [bad] = check(AIR, fiware_air("2026-11-25T07:00:00Z", no2=41, windDirection="N"))
    assert dict(good) == FIWARE_AIR_STORED
    assert (bad.reason, bad.field) == (RejectReason.UNKNOWN_METRIC, "metrics.no2")
    assert "(or one of their aliases)" in bad.detail


def test_an_entity_of_another_data_model_is_a_type_mismatch() -> None:
    entity = fiware_air("2026-11-25T07:00:00Z", type="NoiseLevelObserved")
    good, [bad] = check(AIR, entity)
    assert good == []
    assert (bad.reason, bad.field, bad.detail) == (
        RejectReason.TYPE_MISMATCH,
        "type",
        "type: the entity is a 'NoiseLevelObserved' but sensor type 'air_station' "
        "follows 'AirQualityObserved'",
    )


@pytest.mark.parametrize(
    ("entity", "reason", "field"),
    [
        ({"dateObserved": "2026-11-25T07:00:00Z", "pm25": 3}, RejectReason.MISSING_FIELD, "type"),
        (
            {"type": "AirQualityObserved", "dateObserved": "2026-11-25T07:00:00", "pm25": 3},
            RejectReason.BAD_TIMESTAMP,
            "dateObserved",
        ),
        (
            {"type": "AirQualityObserved", "dateObserved": "2026-11-25T07:00:00Z", "id": "x"},
            RejectReason.MISSING_FIELD,
            "metrics",
        ),
    ],
)
def test_malformed_fiware_entities_name_the_field(
    entity: dict[str, Any], reason: RejectReason, field: str
) -> None:
    [(_, rejection)] = decode_payload(orjson.dumps(entity))
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.field) == (reason, field)
    assert rejection.detail.startswith(f"{field}: ")


def test_a_plain_report_without_metrics_is_still_a_plain_mistake() -> None:
    [(_, rejection)] = decode_payload(orjson.dumps({"ts": NOW_MS, "pm25": 3}))
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.field) == (RejectReason.MISSING_FIELD, "metrics")
