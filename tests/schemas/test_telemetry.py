"""Payload decoding and per-type checks: every reason code, with its field and a useful detail."""

from __future__ import annotations

import json
import pickle
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.registry import load_registry
from schemas.telemetry import Rejection, RejectReason, Report, decode_payload, parse_timestamp
from schemas.type_validator import TypeValidator, validators_for

R = RejectReason
NOW = datetime(2025, 11, 25, 8, tzinfo=UTC)
NOW_MS = 1_764_057_600_000  # NOW in epoch milliseconds
VALIDATORS = validators_for(load_registry())
PRESSURE = VALIDATORS["water_main_pressure"]  # pressure MPa [0, 1.6], battery % [0, 100]
SMOKE = VALIDATORS["smoke_detector"]  # smoke_alarm and fault are state metrics
Checked = tuple[list[tuple[str, float]], list[Rejection]]


def payload(**report: Any) -> bytes:
    return json.dumps({"ts": NOW_MS, **report}).encode()


def decoded(data: bytes) -> Report:
    [(index, report)] = decode_payload(data)
    assert index == 0
    assert isinstance(report, Report), report
    return report


def check(validator: TypeValidator, report: Report, prefix: str = "") -> Checked:
    window = {"max_future": timedelta(minutes=5), "max_age": timedelta(days=7)}
    return validator.check(report, now=NOW, field_prefix=prefix, **window)


def checked(metrics: dict[str, Any], validator: TypeValidator = PRESSURE) -> Checked:
    return check(validator, decoded(payload(metrics=metrics)))


def one_bad(metrics: dict[str, Any], validator: TypeValidator = PRESSURE) -> Rejection:
    good, [bad] = checked(metrics, validator)
    assert good == []
    return bad


def assert_rejection(
    rejection: Rejection, reason: RejectReason, field: str | None, *parts: str
) -> None:
    assert (rejection.reason, rejection.field) == (reason, field), rejection.detail
    assert rejection.detail.startswith(f"{field or 'payload'}: ")
    for part in parts:
        assert part in rejection.detail


def test_typical_single_reading() -> None:
    report = decoded(b'{"ts": 1764057600000, "seq": 1, "metrics": {"pressure": 0.31}}')
    assert report == Report(NOW, 1, None, (("pressure", 0.31),))
    assert check(PRESSURE, report) == ([("pressure", 0.31)], [])
    report = decoded(payload(type="water_main_pressure", fw="1.2", metrics={"pressure": 1}))
    assert (report.type_name, report.seq) == ("water_main_pressure", None)  # fw is ignored


@pytest.mark.parametrize(
    "ts", ["2025-11-25T08:00:00Z", "2025-11-25T16:00:00+08:00", "2025-11-25T08:00:00.000+00:00"]
)
def test_iso_timestamps_with_an_offset_are_normalised_to_utc(ts: str) -> None:
    report = decoded(payload(ts=ts, metrics={"pressure": 0.3}))
    assert report.ts == NOW
    assert report.ts.tzinfo is UTC


def test_epoch_milliseconds_and_the_shared_timestamp_parser() -> None:
    report = decoded(payload(ts=NOW_MS + 123, metrics={"a": 1}))
    assert report.ts == NOW + timedelta(milliseconds=123)
    assert parse_timestamp("2025-11-25T16:00:00+08:00") == parse_timestamp(NOW_MS) == NOW
    rejection = parse_timestamp(1_764_057_600, "status.ts")
    assert isinstance(rejection, Rejection)
    assert_rejection(rejection, R.TOO_OLD, "status.ts", "epoch seconds?")


@pytest.mark.parametrize(
    ("validator", "metrics", "expected"),
    [
        (PRESSURE, {"pressure": 0, "battery": 100}, [("pressure", 0.0), ("battery", 100.0)]),
        (PRESSURE, {"pressure": -0.0, "battery": 1.6e1}, [("pressure", 0.0), ("battery", 16.0)]),
        (SMOKE, {"smoke_alarm": True, "fault": False}, [("smoke_alarm", 1.0), ("fault", 0.0)]),
        (
            PRESSURE,
            {"pressure": {"value": 0.3, "unit": "MPa"}, "battery": {"value": 80, "unit": "%"}},
            [("pressure", 0.3), ("battery", 80.0)],
        ),
        (SMOKE, {"smoke_alarm": {"value": True, "unit": "bool"}}, [("smoke_alarm", 1.0)]),
    ],
)
def test_accepted_values_become_plain_floats(
    validator: TypeValidator, metrics: dict[str, Any], expected: list[tuple[str, float]]
) -> None:
    good, bad = checked(metrics, validator)
    assert (good, bad) == (expected, [])
    assert all(type(value) is float and str(value) != "-0.0" for _, value in good)


def test_array_with_good_and_bad_elements_keeps_the_good_ones() -> None:
    reports = [
        {"ts": NOW_MS, "metrics": {"pressure": 0.3}},
        "junk",
        {"ts": NOW_MS - 60_000, "metrics": {"pressure": 9, "battery": 50}},
        {"metrics": {"pressure": 0.3}},
        {"ts": NOW_MS - 120_000, "seq": 3, "metrics": {"pressure": 0.28}},
    ]
    results = decode_payload(json.dumps(reports).encode())
    assert [i for i, _ in results] == [0, 1, 2, 3, 4]
    kept = [item for _, item in results if isinstance(item, Report)]
    refused = [item for _, item in results if isinstance(item, Rejection)]
    assert [r.seq for r in kept] == [None, None, 3]
    assert [(r.reason, r.field) for r in refused] == [
        (R.BAD_SHAPE, "[1]"),
        (R.MISSING_FIELD, "[3].ts"),
    ]
    assert refused[0].detail == "[1]: expected a report object, got the string 'junk'"
    good, [bad] = check(PRESSURE, kept[1], "[2].")
    assert good == [("battery", 50.0)]
    assert_rejection(bad, RejectReason.OUT_OF_RANGE, "[2].metrics.pressure", "[0, 1.6] MPa")


_DEEP = b"[" * 5000 + b"]" * 5000
_DEEP_NAN = b'{"metrics": ' + b"[" * 5000 + b"NaN" + b"]" * 5000 + b"}"
_HUGE_AND_NAN = b'{"metrics": {"pressure": NaN, "battery": 1' + b"0" * 400 + b"}}"
_FOUR = json.dumps([{"ts": NOW_MS, "metrics": {"pressure": 0.3}}] * 4).encode()


@pytest.mark.parametrize(
    ("data", "limits", "reason", "parts"),
    [
        (b"{}" * 10, {"max_bytes": 15}, R.OVERSIZED, ("20 bytes", "limit of 15 bytes")),
        (b'{"ts": "\xff\xfe", "metrics": {}}', {}, R.BAD_UTF8, ("not UTF-8", "offset 8")),
        (b"", {}, R.BAD_JSON, ("not valid JSON (",)),
        (b'{"ts": 1,', {}, R.BAD_JSON, ("not valid JSON (",)),
        (b"{'ts': 1}", {}, R.BAD_JSON, ("not valid JSON (",)),
        (b"\xef\xbb\xbf{}", {}, R.BAD_JSON, ("BOM",)),
        (b'{"a": "\\ud800", "b": NaN}', {}, R.BAD_JSON, ("surrogate",)),  # NaN is not the only flaw
        (b"nan", {}, R.BAD_JSON, ("not valid JSON (",)),
        (_DEEP, {}, R.BAD_JSON, ("depth limit",)),
        (_DEEP_NAN, {}, R.BAD_JSON, ("depth limit",)),
        (_HUGE_AND_NAN, {}, R.BAD_JSON, ("not valid JSON (",)),  # a 400-digit integer
        (b'"x"', {}, R.BAD_SHAPE, ("expected a report object or an array", "the string 'x'")),
        (b"5", {}, R.BAD_SHAPE, ("got the number 5",)),
        (b"[]", {}, R.BAD_SHAPE, ("empty array",)),
        (_FOUR, {"max_reports": 3}, R.TOO_MANY_READINGS, ("4 reports", "at most 3")),
    ],
)
def test_payload_level_rejections_are_raised(
    data: bytes, limits: dict[str, int], reason: RejectReason, parts: tuple[str, ...]
) -> None:
    with pytest.raises(Rejection) as caught:
        decode_payload(data, **limits)
    assert_rejection(caught.value, reason, None, *parts)


def test_limits_are_inclusive() -> None:
    assert len(decode_payload(_FOUR, max_reports=4, max_bytes=len(_FOUR))) == 4


_P = {"pressure": 1}


@pytest.mark.parametrize(
    ("report", "reason", "field", "part"),
    [
        ({"metrics": _P}, R.MISSING_FIELD, "ts", "missing; expected ISO 8601"),
        ({"ts": NOW_MS}, R.MISSING_FIELD, "metrics", "missing"),
        ({"ts": NOW_MS, "metrics": {}}, R.MISSING_FIELD, "metrics", "empty"),
        ({"ts": NOW_MS, "metrics": [1, 2]}, R.BAD_SHAPE, "metrics", "got an array"),
        ({"ts": NOW_MS, "metrics": _P, "type": 7}, R.BAD_SHAPE, "type", "sensor type name"),
        ({"ts": "2025-11-25T08:00:00", "metrics": _P}, R.BAD_TIMESTAMP, "ts", "add a UTC offset"),
        ({"ts": "yesterday", "metrics": _P}, R.BAD_TIMESTAMP, "ts", "'yesterday' is not ISO"),
        ({"ts": "2025-11-25T08:00+25:00", "metrics": _P}, R.BAD_TIMESTAMP, "ts", "not ISO 8601"),
        ({"ts": "0001-01-01T00:00+01:00", "metrics": _P}, R.BAD_TIMESTAMP, "ts", "out of range"),
        ({"ts": 1.7640576e12, "metrics": _P}, R.BAD_TIMESTAMP, "ts", "got the number"),
        ({"ts": True, "metrics": _P}, R.BAD_TIMESTAMP, "ts", "got true"),
        ({"ts": None, "metrics": _P}, R.BAD_TIMESTAMP, "ts", "got null"),
        ({"ts": NOW_MS * 1000, "metrics": _P}, R.BAD_TIMESTAMP, "ts", "epoch micro- or nano"),
        ({"ts": 1_764_057_600, "metrics": _P}, R.TOO_OLD, "ts", "epoch seconds? expected milli"),
        ({"ts": -1, "metrics": _P}, R.TOO_OLD, "ts", "epoch seconds? expected milliseconds"),
        ({"ts": NOW_MS, "metrics": _P, "seq": -1}, R.BAD_SEQ, "seq", "-1 is not a sequence"),
        ({"ts": NOW_MS, "metrics": _P, "seq": "7"}, R.BAD_SEQ, "seq", "not a sequence number"),
        ({"ts": NOW_MS, "metrics": _P, "seq": 1.5}, R.BAD_SEQ, "seq", "not a sequence number"),
        ({"ts": NOW_MS, "metrics": _P, "seq": True}, R.BAD_SEQ, "seq", "not a sequence number"),
        ({"ts": NOW_MS, "metrics": _P, "seq": None}, R.BAD_SEQ, "seq", "not a sequence number"),
        ({"ts": NOW_MS, "metrics": _P, "seq": 2**63}, R.BAD_SEQ, "seq", "integer 0 to 2^63-1"),
    ],
)
def test_report_level_rejections_are_returned(
    report: dict[str, Any], reason: RejectReason, field: str, part: str
) -> None:
    [(_, rejection)] = decode_payload(json.dumps(report).encode())
    assert isinstance(rejection, Rejection)
    assert_rejection(rejection, reason, field, part)


def test_array_element_fields_carry_the_index() -> None:
    data = json.dumps([{"ts": NOW_MS, "metrics": {"a": 1}}, {"ts": "x", "metrics": {}}]).encode()
    rejection = decode_payload(data)[1][1]
    assert isinstance(rejection, Rejection)
    assert_rejection(rejection, RejectReason.BAD_TIMESTAMP, "[1].ts", "[1].ts: 'x'")


@pytest.mark.parametrize(
    ("offset_ms", "reason", "parts"),
    [
        (
            3_600_000,
            R.FUTURE_TIMESTAMP,
            ("[4].ts: 2025-11-25T09:00:00+00:00 is 1 h ahead", "5 min"),
        ),
        (-8 * 86_400_000, R.TOO_OLD, ("8 d old", "at most 7 d")),
    ],
)
def test_timestamps_outside_the_window_reject_the_whole_report(
    offset_ms: int, reason: RejectReason, parts: tuple[str, ...]
) -> None:
    report = decoded(payload(ts=NOW_MS + offset_ms, metrics={"pressure": 0.3, "battery": 50}))
    good, [bad] = check(PRESSURE, report, "[4].")
    assert good == []
    assert_rejection(bad, reason, "[4].ts", *parts)


@pytest.mark.parametrize("offset_ms", [5 * 60_000, -7 * 86_400_000])
def test_timestamps_at_the_window_edges_pass(offset_ms: int) -> None:
    report = decoded(payload(ts=NOW_MS + offset_ms, metrics={"pressure": 0.3}))
    assert check(PRESSURE, report) == ([("pressure", 0.3)], [])


def test_out_of_range_names_the_physical_range() -> None:
    good, [bad] = checked({"pressure": 2.5, "battery": 90})
    assert good == [("battery", 90.0)]
    assert bad.reason is RejectReason.OUT_OF_RANGE
    assert bad.field == "metrics.pressure"
    assert bad.detail == "metrics.pressure: 2.5 MPa is outside the physical range [0, 1.6] MPa"


def test_unknown_metric_lists_the_known_ones() -> None:
    good, [bad] = checked({"presure": 0.3, "battery": 80})
    assert good == [("battery", 80.0)]
    assert_rejection(
        bad, RejectReason.UNKNOWN_METRIC, "metrics.presure", "expected one of battery, pressure"
    )


def _unit(value: object, unit: object = "MPa") -> dict[str, object]:
    return {"value": value, "unit": unit}


@pytest.mark.parametrize(
    ("value", "reason", "parts"),
    [
        ("0.3", R.WRONG_VALUE_TYPE, ("got the string '0.3'", "expected a number in 'MPa'")),
        (None, R.WRONG_VALUE_TYPE, ("got null", "'MPa'")),
        ([0.3], R.WRONG_VALUE_TYPE, ("got an array", "'MPa'")),
        (True, R.WRONG_VALUE_TYPE, ("booleans are only for two-state metrics", "'MPa'")),
        (_unit({"value": 0.3}), R.WRONG_VALUE_TYPE, ("got an object",)),
        (_unit("0.3"), R.WRONG_VALUE_TYPE, ("got the string",)),
        (
            _unit(3, "°C"),
            R.WRONG_UNIT,
            (
                "unit '°C' (a temperature) cannot be converted to the "
                "declared unit 'MPa' (a pressure)",
            ),
        ),
        (_unit(0.3, "mpa"), R.WRONG_UNIT, ("unknown unit 'mpa'", "declared unit is 'MPa'")),
        (_unit(0.3, 5), R.WRONG_UNIT, ("unit must be a string, got the number 5",)),
        (_unit(3000, "kPa"), R.OUT_OF_RANGE, ("3000 kPa (3 MPa) is outside the physical range",)),
        ({"value": 0.3}, R.MISSING_FIELD, ("no 'unit'", "'MPa'")),
        ({"unit": "MPa"}, R.MISSING_FIELD, ("no 'value'",)),
        (_unit(2), R.OUT_OF_RANGE, ("2 MPa is outside the physical range [0, 1.6] MPa",)),
        (-0.01, R.OUT_OF_RANGE, ("-0.01 MPa is outside",)),
        (10**30, R.OUT_OF_RANGE, ("1e+30 MPa",)),  # orjson makes a float of it
        (2**64 - 1, R.OUT_OF_RANGE, ("18446744073709551615 MPa",)),  # orjson keeps the int
    ],
)
def test_metric_level_rejections(value: object, reason: RejectReason, parts: tuple[str]) -> None:
    assert_rejection(one_bad({"pressure": value}), reason, "metrics.pressure", *parts)


@pytest.mark.parametrize(
    ("value", "part"),
    [
        (b"NaN", "NaN"),
        (b"Infinity", "Infinity"),
        (b"-Infinity", "Infinity"),
        (b"1e400", "1.8e308"),
        (b'{"value": NaN, "unit": "MPa"}', "NaN"),
    ],
)
def test_not_finite_values_are_refused_per_metric(value: bytes, part: str) -> None:
    metrics = b'{"pressure": ' + value + b', "battery": 70}'
    report = decoded(b'{"ts": 1764057600000, "metrics": ' + metrics + b"}")
    good, [bad] = check(PRESSURE, report)
    assert good == [("battery", 70.0)]  # the rest of the report survives
    assert_rejection(bad, RejectReason.NOT_FINITE, "metrics.pressure", part, "not a finite")


def test_integers_beyond_a_double_are_out_of_range() -> None:
    # Beyond a double and beyond str()'s digit limit: only from a Report built by hand.
    report = Report(NOW, None, None, (("battery", 10**400), ("pressure", 10**5000)))
    _, bads = check(PRESSURE, report)
    assert_rejection(
        bads[0], RejectReason.OUT_OF_RANGE, "metrics.battery", "about 401 digits", "[0, 100] %"
    )
    assert_rejection(bads[1], RejectReason.OUT_OF_RANGE, "metrics.pressure", "about 5001 digits")


def test_unicode_and_long_metric_names_make_bounded_readable_fields() -> None:
    assert one_bad({"压力": 1}).field == "metrics.压力"
    long = one_bad({"x" * 10_000: 1})
    assert long.field is not None
    assert len(long.field) < 100
    assert long.field.endswith("…")
    assert len(long.detail) < 300
    nul = one_bad({"a\x00b": 1})
    assert nul.field == "metrics.'a\\x00b'"
    assert "\x00" not in nul.detail


def test_reason_codes_are_stable_snake_case() -> None:
    assert {r.value for r in RejectReason} >= {
        "bad_topic", "oversized", "bad_utf8", "bad_json", "bad_shape", "missing_field",
        "bad_timestamp", "future_timestamp", "too_old", "unknown_type", "unknown_sensor",
        "type_mismatch", "domain_mismatch", "unknown_metric", "wrong_value_type", "not_finite",
        "out_of_range", "wrong_unit", "too_many_readings", "bad_seq",
    }  # fmt: skip
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", r.value) for r in RejectReason)


def test_rejection_pickles_and_prints_its_detail() -> None:
    rejection = one_bad({"pressure": 9})
    copy = pickle.loads(pickle.dumps(rejection))
    assert vars(copy) == vars(rejection)
    assert str(rejection) == rejection.detail


def test_a_validator_per_registered_type() -> None:
    assert set(VALIDATORS) == {t.name for t in load_registry()}
    assert VALIDATORS["smoke_detector"].domain == "buildings"
