"""MQTT topics: `city/v1/{domain}/{district}/{sensor_id}/{telemetry|status}`, and which sensor
type's validator applies to a report arriving on one.

One scheme for publishers (simulators, gateways) and the ingest, so a topic a simulator builds is
always one the ingest accepts. Parsing sits on the ingest's hot path and the same few thousand
topics repeat all day, so parsed topics are kept in a bounded LRU cache; rejected topics are not
cached (they are rare, and caching them would let junk evict the fleet's real topics).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

from schemas.geography import CODE_PATTERN
from schemas.inventory import SENSOR_ID_PATTERN
from schemas.sensor_type import NAME_PATTERN
from schemas.telemetry import Rejection, RejectReason, Report
from schemas.type_validator import TypeValidator

PREFIX = "city/v1"
TELEMETRY = "telemetry"
STATUS = "status"
KINDS = (TELEMETRY, STATUS)
TELEMETRY_FILTER = f"{PREFIX}/+/+/+/{TELEMETRY}"
STATUS_FILTER = f"{PREFIX}/+/+/+/{STATUS}"
TOPIC_CACHE_SIZE = 262_144  # far above any real fleet; full of long topics it holds ~85 MB

_SENSOR_ID = re.compile(SENSOR_ID_PATTERN)
# Domains are configuration (domains.yaml): a topic's domain is checked for its form here and
# against its sensor's type in `resolve_validator`, which knows the registry.
_DOMAIN = re.compile(NAME_PATTERN)
# Canonical string objects: cached Topics share them instead of holding a split() copy each.
# The district part is checked for its shape here; whether the code is a configured subdistrict
# is the ingest's question, asked against the catalog it holds.
_DISTRICT = re.compile(CODE_PATTERN)
_KINDS = {k: k for k in KINDS}
_SHAPE = f"{PREFIX}/{{domain}}/{{district}}/{{sensor_id}}/{TELEMETRY}|{STATUS}"
_KIND_NAMES = f"{TELEMETRY} or {STATUS}"
_CLIP = 120  # topics are attacker-controlled; keep details readable and bounded


@dataclass(frozen=True, slots=True)
class Topic:
    domain: str
    district: str
    sensor_id: str
    kind: str  # "telemetry" | "status"


def telemetry_topic(domain: str, district: str, sensor_id: str) -> str:
    """Raises ValueError naming the bad part: a wrong topic is a publisher bug, caught early."""
    return _build(domain, district, sensor_id, TELEMETRY)


def status_topic(domain: str, district: str, sensor_id: str) -> str:
    return _build(domain, district, sensor_id, STATUS)


def parse_topic(topic: str) -> Topic:
    """Raises Rejection(BAD_TOPIC, "topic", detail) when `topic` is not one of ours."""
    return _parse_cached(topic)


def topic_cache_clear() -> None:
    _parse_cached.cache_clear()


def unknown_district(topic: str, district: str, known: Collection[str]) -> Rejection:
    """The refusal of a topic naming a subdistrict that is not configured."""
    what = f"unknown district code {_clip(district)}; expected one of {', '.join(known)}"
    return _reject(RejectReason.BAD_TOPIC, "topic", f"{_clip(topic)}: {what}")


def resolve_validator(
    topic: Topic,
    report: Report,
    validators: Mapping[str, TypeValidator],
    *,
    registered_type: str | None,
    allow_unregistered: bool,
    field_prefix: str = "",
) -> TypeValidator | Rejection:
    """The validator for a report from `topic`'s sensor, or why there is none.

    `registered_type` is the sensor's type in the inventory (None: not registered). An
    unregistered sensor is accepted only if `allow_unregistered` (the auto_register policy) and
    the report names its type. A report naming a type other than the registered one is refused
    rather than trusted, and so is a type whose domain differs from the topic's.
    """
    type_field, sensor = f"{field_prefix}type", _clip(topic.sensor_id)
    if registered_type is None:
        if not allow_unregistered:
            what = f"sensor {sensor} is not in the inventory (register it first)"
            return _reject(RejectReason.UNKNOWN_SENSOR, "topic", what)
        if report.type_name is None:
            what = f"sensor {sensor} is not in the inventory and the report names no type"
            return _reject(RejectReason.UNKNOWN_SENSOR, type_field, what)
        name = report.type_name
    elif report.type_name is not None and report.type_name != registered_type:
        what = f"report says {_clip(report.type_name)} but sensor {sensor} is registered as "
        return _reject(RejectReason.TYPE_MISMATCH, type_field, f"{what}{registered_type!r}")
    else:
        name = registered_type
    validator = validators.get(name)
    if validator is None:
        field = type_field if name == report.type_name else "topic"
        what = f"unknown sensor type {_clip(name)} (not in the registry)"
        return _reject(RejectReason.UNKNOWN_TYPE, field, what)
    if validator.domain != topic.domain:
        what = f"domain {topic.domain!r} but sensor type {validator.name!r} belongs to "
        return _reject(RejectReason.DOMAIN_MISMATCH, "topic", f"{what}{validator.domain!r}")
    return validator


def _build(domain: str, district: str, sensor_id: str, kind: str) -> str:
    problem = _problem(str(domain), district, sensor_id)
    if problem is not None:
        raise ValueError(problem)
    return f"{PREFIX}/{domain}/{district}/{sensor_id}/{kind}"


@lru_cache(maxsize=TOPIC_CACHE_SIZE)
def _parse_cached(topic: str) -> Topic:
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "city" or parts[1] != "v1":
        raise _bad(f"{_clip(topic)} is not {_SHAPE}")
    kind = _KINDS.get(parts[5])
    if kind is None:
        raise _bad(f"{_clip(topic)}: unknown kind {_clip(parts[5])}; expected {_KIND_NAMES}")
    problem = _problem(parts[2], parts[3], parts[4])
    if problem is not None:
        raise _bad(f"{_clip(topic)}: {problem}")
    return Topic(sys.intern(parts[2]), sys.intern(parts[3]), parts[4], kind)


def _problem(domain: str, district: str, sensor_id: str) -> str | None:
    if _DOMAIN.fullmatch(domain) is None:
        return f"domain {_clip(domain)} is not a domain code (snake_case: a-z, 0-9, _)"
    if _DISTRICT.fullmatch(district) is None:
        return f"district code {_clip(district)} does not match {CODE_PATTERN}"
    if _SENSOR_ID.fullmatch(sensor_id) is None:
        return (
            f"sensor id {_clip(sensor_id)} does not match {SENSOR_ID_PATTERN} "
            "(letters, digits, '_', '.', '-'; at most 64 characters)"
        )
    return None


def _bad(detail: str) -> Rejection:
    return _reject(RejectReason.BAD_TOPIC, "topic", detail)


def _reject(reason: RejectReason, field: str, what: str) -> Rejection:
    return Rejection(reason, field, f"{field}: {what}")


def _clip(text: str) -> str:
    return repr(text if len(text) <= _CLIP else text[:_CLIP] + "…")
