"""Shared pieces of the OpenAPI document: documented error answers, tags, YAML bodies."""

from __future__ import annotations

from typing import Any

from gateway.models import ErrorBody

_ERRORS = {
    401: "No API key, or an unknown or revoked one (send X-API-Key or a bearer token)",
    403: "The key's role may not do this",
    404: "No such thing",
    409: "The current state does not allow it",
    413: "The request body is over gateway.max_request_bytes",
    422: "Input that cannot be used; `field` names it and `problems` lists every problem",
    429: "Too many at once, or too many wrong keys from this address; retry after Retry-After",
    503: "The database cannot be reached; retry after the Retry-After header's seconds",
}
# What every endpoint behind a key can answer besides its own errors.
COMMON = (401, 403, 413, 422, 429, 503)

TAGS = [
    {"name": "registry", "description": "Sensor types: list, read, register or update (YAML)"},
    {"name": "sensors", "description": "Sensors, their latest values and status history"},
    {"name": "readings", "description": "Range queries in buckets, raw pages, exports"},
    {"name": "vital signs", "description": "The city's current figures per domain"},
    {"name": "alerts", "description": "Alerts, their closed loop, silences, the audit trail"},
    {"name": "ingest", "description": "Readings pushed over HTTP (NB-IoT platforms)"},
    {"name": "dead letters", "description": "Payloads set aside: inspect and replay"},
    {"name": "stream", "description": "Server-Sent Events of vital signs and alerts"},
    {"name": "console", "description": "What the ops console starts from: the key, the map"},
    {"name": "keys", "description": "API keys (also `cityvitals keys`)"},
    {"name": "operations", "description": "Health, readiness, Prometheus metrics"},
]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of an endpoint for `codes` (plus the common ones)."""
    return {
        code: {"model": ErrorBody, "description": _ERRORS[code]}
        for code in sorted(set(codes) | set(COMMON))
    }


def raw_body(media_types: dict[str, dict[str, Any]], description: str) -> dict[str, Any]:
    """openapi_extra for an endpoint that reads its body itself (YAML, device payloads)."""
    return {"requestBody": {"required": True, "description": description, "content": media_types}}
