"""Input the API cannot use is a 4xx naming the field that held it: never a 500, never the
database's own words (issue 12, item 4). Times at the ends of the calendar, an overflowing
bucket, a Last-Event-ID Python calls a digit, text PostgreSQL cannot hold."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.gateway.conftest import Gateway, assert_error

# Past the year 9999 once in UTC, before the year 1, and (valid, but absurd) the last second.
EDGES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59+14:00")
INTERNAL = ("Error", "asyncpg", "query argument", "datetime.datetime", "UTF8", "0x00", "$")
NUL = "yp-wp-0001\x00"
SENSOR = {"metric": "pressure", "sensor": "yp-wp-0001"}
A_DAY = {"start": "2026-11-24T00:00:00Z", "end": "2026-11-25T00:00:00Z"}


def cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def case(role: str, method: str, path: str, field: str, **kw: Any) -> Any:
    return pytest.param(role, method, path, field, kw, id=f"{method} {path} {field} {kw}"[:90])


CASES = [
    *(
        case("viewer", "GET", path, field, params={**base, field: edge})
        for edge in EDGES
        for path, base, fields in (
            ("/v1/readings", {**SENSOR, **A_DAY}, ("start", "end")),
            ("/v1/readings/raw", {"sensor": "yp-wp-0001", **A_DAY}, ("start", "end")),
            ("/v1/readings/export", {"sensor": "yp-wp-0001", **A_DAY}, ("start", "end")),
            ("/v1/audit", {}, ("since", "until")),
        )
        for field in fields
    ),
    # The request of the report: refused before the export answers 200.
    case(
        "viewer",
        "GET",
        "/v1/readings/export",
        "start",
        params={"sensor": "yp-wp-0001", "start": EDGES[1], "end": "0001-01-01T00:00:00Z"},
    ),
    case("viewer", "GET", "/v1/readings", "bucket", params={**SENSOR, **A_DAY, "bucket": "9" * 20}),
    case("viewer", "GET", "/v1/readings", "bucket", params={**SENSOR, **A_DAY, "bucket": "367d"}),
    case(
        "viewer",
        "GET",
        "/v1/readings/raw",
        "cursor",
        params={"sensor": "yp-wp-0001", **A_DAY, "cursor": cursor(EDGES[0], 1)},
    ),
    case(
        "viewer",
        "GET",
        "/v1/readings/raw",
        "cursor",
        params={"sensor": "yp-wp-0001", **A_DAY, "cursor": cursor(A_DAY["start"], 2**40)},
    ),
    case("viewer", "GET", "/v1/stream", "Last-Event-ID", headers={"Last-Event-ID": b"\xb2"}),
    case("viewer", "GET", "/v1/stream", "Last-Event-ID", headers={"Last-Event-ID": "9" * 19}),
    # Text with NUL reaches the database; the error names the field it came in.
    case("viewer", "GET", "/v1/readings", "sensor", params={**SENSOR, **A_DAY, "sensor": NUL}),
    case("viewer", "GET", "/v1/audit", "actor", params={"actor": NUL}),
    case("viewer", "GET", "/v1/sensors/yp-wp-0001%00", "sensor_id"),
    case("operator", "GET", "/v1/dead-letters", "since", params={"since": EDGES[0]}),
    case(
        "operator",
        "POST",
        "/v1/silences",
        "ends_at",
        json={"matchers": ["subdistrict=yinhang"], "ends_at": EDGES[0]},
    ),
    case(
        "operator",
        "POST",
        "/v1/silences",
        "comment",
        json={
            "matchers": ["subdistrict=yinhang"],
            "ends_at": "2027-01-01T00:00:00Z",
            "comment": NUL,
        },
    ),
    case(
        "admin",
        "PUT",
        "/v1/sensors/yp-wp-9999",
        "name",
        json={"type": "water_main_pressure", "subdistrict": "yinhang", "name": NUL},
    ),
]


@pytest.mark.parametrize(("role", "method", "path", "field", "kw"), CASES)
async def test_unusable_input_is_a_4xx_naming_its_field(
    gateway: Gateway, role: str, method: str, path: str, field: str, kw: dict[str, Any]
) -> None:
    answer = await gateway.request(method, path, role, **kw)
    assert 400 <= answer.status_code < 500, answer.text
    body = assert_error(answer, answer.status_code, field)
    said = [body["detail"], *(p["detail"] for p in body["problems"])]
    assert body["detail"].startswith(f"{field}: "), body
    for word in INTERNAL:
        assert not any(word in text for text in said), (word, body)
