"""Topics: builders and parser agree, every malformed topic is bad_topic naming what is wrong,
and resolving a report's validator refuses unknown sensors, types and mismatches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.geography import Geography
from schemas.registry import load_registry
from schemas.telemetry import Rejection, RejectReason, Report
from schemas.topics import (
    STATUS_FILTER,
    TELEMETRY_FILTER,
    Topic,
    parse_topic,
    resolve_validator,
    status_topic,
    telemetry_topic,
)
from schemas.type_validator import validators_for

REGISTRY = load_registry()
VALIDATORS = validators_for(REGISTRY)
WATER = Topic("water", "yinhang", "WP-0001", "telemetry")
NOW = datetime(2025, 11, 25, 8, tzinfo=UTC)


def test_filters_and_builders() -> None:
    assert TELEMETRY_FILTER == "city/v1/+/+/+/telemetry"
    assert STATUS_FILTER == "city/v1/+/+/+/status"
    assert (
        telemetry_topic("water", "yinhang", "WP-0001") == "city/v1/water/yinhang/WP-0001/telemetry"
    )
    assert status_topic("power", "daqiao", "tx.7") == "city/v1/power/daqiao/tx.7/status"


def test_parse_telemetry_and_status() -> None:
    assert parse_topic("city/v1/water/yinhang/WP-0001/telemetry") == WATER
    status = parse_topic("city/v1/parking/wujiaochang/P_12/status")
    assert status == Topic("parking", "wujiaochang", "P_12", "status")


def test_every_domain_and_district_round_trips(geography: Geography) -> None:
    for domain in REGISTRY.domains:
        for district in geography:
            topic = parse_topic(telemetry_topic(domain, district.code, "s-1"))
            assert (topic.domain, topic.district, topic.kind) == (
                domain,
                district.code,
                "telemetry",
            )


def test_parsed_topics_are_cached() -> None:
    topic = "city/v1/power/daqiao/FC-77/telemetry"
    assert parse_topic(topic) is parse_topic(topic)


@pytest.mark.parametrize(
    ("topic", "part"),
    [
        ("city/v2/water/yinhang/WP-1/telemetry", "is not city/v1/{domain}/{district}/{sensor_id}"),
        ("town/v1/water/yinhang/WP-1/telemetry", "is not city/v1/"),
        ("city/v1/water/yinhang/telemetry", "is not city/v1/"),
        ("city/v1/water/yinhang/WP-1/telemetry/extra", "is not city/v1/"),
        ("/city/v1/water/yinhang/WP-1/telemetry", "is not city/v1/"),
        ("", "'' is not city/v1/"),
        ("city/v1/Water/yinhang/WP-1/telemetry", "domain 'Water' is not a domain code"),
        ("city/v1/air-quality/yinhang/WP-1/telemetry", "'air-quality' is not a domain code"),
        ("city/v1/+/yinhang/WP-1/telemetry", "domain '+' is not a domain code"),
        ("city/v1/water/Atlantis/WP-1/telemetry", "district code 'Atlantis' does not match"),
        ("city/v1/water/+/WP-1/telemetry", "district code '+' does not match"),
        ("city/v1/water/yinhang/WP 1/telemetry", "sensor id 'WP 1' does not match"),
        ("city/v1/water/yinhang/-WP1/telemetry", "sensor id '-WP1'"),
        ("city/v1/water/yinhang//telemetry", "sensor id ''"),
        ("city/v1/water/yinhang/WP1\n/telemetry", "sensor id 'WP1\\n'"),
        (f"city/v1/water/yinhang/{'x' * 65}/telemetry", "at most 64 characters"),
        (
            "city/v1/water/yinhang/WP-1/events",
            "unknown kind 'events'; expected telemetry or status",
        ),
    ],
)
def test_bad_topics_name_the_problem(topic: str, part: str) -> None:
    with pytest.raises(Rejection) as caught:
        parse_topic(topic)
    rejection = caught.value
    assert (rejection.reason, rejection.field) == (RejectReason.BAD_TOPIC, "topic")
    assert rejection.detail.startswith("topic: ")
    assert part in rejection.detail


def test_long_junk_topics_give_bounded_details() -> None:
    with pytest.raises(Rejection) as caught:
        parse_topic("x" * 100_000)
    assert len(caught.value.detail) < 400


@pytest.mark.parametrize(
    ("domain", "district", "sensor_id", "part"),
    [
        ("Air", "yinhang", "s1", "'Air' is not a domain code"),
        ("water", "Yinhang", "s1", "district code 'Yinhang' does not match"),
        ("water", "yinhang", "a/b", "sensor id 'a/b'"),
    ],
)
def test_builders_refuse_bad_parts(domain: str, district: str, sensor_id: str, part: str) -> None:
    with pytest.raises(ValueError, match=part):
        telemetry_topic(domain, district, sensor_id)


# --- resolve_validator ----------------------------------------------------------------------


def _report(type_name: str | None = None) -> Report:
    return Report(NOW, None, type_name, (("pressure", 0.3),))


def test_registered_sensor_uses_its_inventory_type() -> None:
    for named in (None, "water_main_pressure"):
        validator = resolve_validator(
            WATER,
            _report(named),
            VALIDATORS,
            registered_type="water_main_pressure",
            allow_unregistered=False,
        )
        assert validator is VALIDATORS["water_main_pressure"]


def test_unregistered_sensor_with_a_named_type_when_allowed() -> None:
    validator = resolve_validator(
        WATER,
        _report("water_flow_meter"),
        VALIDATORS,
        registered_type=None,
        allow_unregistered=True,
    )
    assert validator is VALIDATORS["water_flow_meter"]


@pytest.mark.parametrize(
    ("type_name", "registered", "allow", "reason", "field", "part"),
    [
        (None, None, False, RejectReason.UNKNOWN_SENSOR, "topic", "not in the inventory"),
        (
            "water_main_pressure",
            None,
            False,
            RejectReason.UNKNOWN_SENSOR,
            "topic",
            "sensor 'WP-0001' is not in the inventory",
        ),
        (None, None, True, RejectReason.UNKNOWN_SENSOR, "type", "names no type"),
        (
            "air_quality",
            None,
            True,
            RejectReason.UNKNOWN_TYPE,
            "type",
            "unknown sensor type 'air_quality'",
        ),
        (None, "retired_type", False, RejectReason.UNKNOWN_TYPE, "topic", "'retired_type'"),
        (
            "water_flow_meter",
            "water_main_pressure",
            False,
            RejectReason.TYPE_MISMATCH,
            "type",
            "report says 'water_flow_meter' but sensor 'WP-0001' is registered as "
            "'water_main_pressure'",
        ),
        (
            "smoke_detector",
            None,
            True,
            RejectReason.DOMAIN_MISMATCH,
            "topic",
            "domain 'water' but sensor type 'smoke_detector' belongs to 'buildings'",
        ),
        (None, "ev_charger", False, RejectReason.DOMAIN_MISMATCH, "topic", "belongs to 'power'"),
    ],
)
def test_resolve_refusals(
    type_name: str | None,
    registered: str | None,
    allow: bool,
    reason: RejectReason,
    field: str,
    part: str,
) -> None:
    result = resolve_validator(
        WATER, _report(type_name), VALIDATORS, registered_type=registered, allow_unregistered=allow
    )
    assert isinstance(result, Rejection)
    assert (result.reason, result.field) == (reason, field)
    assert result.detail.startswith(f"{field}: ")
    assert part in result.detail


def test_a_domain_no_type_belongs_to_is_refused_by_the_sensors_type() -> None:
    # Domains are configuration: the parser checks a topic's domain for its form only, and the
    # sensor's type decides (an undeclared domain belongs to no type).
    topic = parse_topic("city/v1/air/yinhang/WP-0001/telemetry")
    result = resolve_validator(
        topic,
        _report(),
        VALIDATORS,
        registered_type="water_main_pressure",
        allow_unregistered=False,
    )
    assert isinstance(result, Rejection)
    assert result.reason is RejectReason.DOMAIN_MISMATCH
    assert "domain 'air' but sensor type 'water_main_pressure' belongs to 'water'" in result.detail


def test_resolve_prefixes_the_type_field_in_arrays() -> None:
    result = resolve_validator(
        WATER,
        _report("water_flow_meter"),
        VALIDATORS,
        registered_type="water_main_pressure",
        allow_unregistered=False,
        field_prefix="[2].",
    )
    assert isinstance(result, Rejection)
    assert result.field == "[2].type"
