"""The payload grammar as JSON Schema, for the HTTP API's documentation of ingest.

The decoders (`schemas.telemetry.decode_payload`, `schemas.status.decode_status`) are written
by hand for speed and give each refusal a reason code; these schemas describe the same grammar
from the same constants (timestamp forms, sequence range, status words, report limit), so the
OpenAPI body of `POST /v1/ingest/...` cannot drift from what the ingest accepts.
"""

from __future__ import annotations

from typing import Any

from schemas.status import STATES
from schemas.telemetry import MAX_SEQ, TS_FORMS

_TIMESTAMP: dict[str, Any] = {
    "description": TS_FORMS,
    "oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}],
}
_METRIC_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "number", "description": "In the unit the sensor type declares"},
        {"type": "boolean", "description": "Two-state metrics only"},
        {"type": "string", "description": "A declared state label (enumerated state metrics)"},
        {
            "type": "object",
            "description": (
                "A value with its unit (a pint unit, symbol or UN/CEFACT code), converted into "
                "the type's unit"
            ),
            "required": ["value", "unit"],
            "properties": {"value": {"type": "number"}, "unit": {"type": "string"}},
            "additionalProperties": False,
        },
    ]
}


def fiware_json_schema() -> dict[str, Any]:
    """A FIWARE Smart Data Models entity in keyValues form (`schemas/fiware.py`)."""
    return {
        "type": "object",
        "description": (
            "FIWARE keyValues entity: `type` is its data model; attributes map to metrics by "
            "name or alias; metadata (id, location, address, ...) is ignored"
        ),
        "required": ["type"],
        "anyOf": [{"required": ["dateObserved"]}, {"required": ["dateObservedTo"]}],
        "not": {"required": ["metrics"]},
        "properties": {
            "type": {"type": "string", "description": "The data model (AirQualityObserved)"},
            "dateObserved": {"type": "string", "description": f"{TS_FORMS}, or an interval a/b"},
            "dateObservedTo": {"type": "string", "description": TS_FORMS},
        },
        "additionalProperties": True,
    }


def report_json_schema() -> dict[str, Any]:
    """One report: ``{"ts": ..., "seq": 17, "type": "...", "metrics": {...}}``."""
    return {
        "type": "object",
        "required": ["ts", "metrics"],
        "properties": {
            "ts": _TIMESTAMP,
            "seq": {"type": "integer", "minimum": 0, "maximum": MAX_SEQ},
            "type": {"type": "string", "description": "The sensor type (auto-registration)"},
            "metrics": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": _METRIC_VALUE,
            },
        },
    }


def telemetry_json_schema(max_reports: int) -> dict[str, Any]:
    """A telemetry payload: one report, or an array of at most `max_reports` of them."""
    report = {"oneOf": [report_json_schema(), fiware_json_schema()]}
    return {
        "oneOf": [
            report,
            {"type": "array", "items": report, "minItems": 1, "maxItems": max_reports},
        ]
    }


def status_json_schema() -> dict[str, Any]:
    """A status payload: the bare word, or a JSON object with the state and its time."""
    states = sorted(STATES)
    return {
        "oneOf": [
            {"type": "string", "enum": states, "description": "The bare word, as in a last will"},
            {
                "type": "object",
                "required": ["state"],
                "properties": {
                    "state": {"type": "string", "enum": states},
                    "ts": {**_TIMESTAMP, "description": f"{TS_FORMS}; default: on arrival"},
                },
            },
        ]
    }
