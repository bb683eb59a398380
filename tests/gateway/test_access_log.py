"""No API key in the logs: a key sent in the query string is refused, and its secret is not
written to uvicorn's access log (text or JSON), nor any credential-like query parameter."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from cityvitals.logs import JsonFormatter, configure_logging, redact
from cityvitals.settings import Settings
from tests.gateway.serving import serving
from tests.waiting import wait_until


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging replaces the root logger's handlers: put pytest's back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.usefixtures("restored_logging")
async def test_a_key_in_the_query_string_is_refused_and_not_logged(
    settings: Settings, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    configure_logging("INFO", fmt)  # as `cityvitals gateway` does; the handler writes to stderr
    async with serving(settings) as served:
        secret = served.keys["viewer"]
        key_id = secret.split("_")[1]
        query = f"sensor=yp-wp-0001&api_key={secret}&token=hunter2"
        async with httpx.AsyncClient(base_url=served.url) as client:
            answer = await client.get(f"/v1/sensors?{query}")
            assert answer.status_code == 401  # only the headers carry keys
            # The key elsewhere in the URL: the path of a route that does not exist.
            assert (await client.get(f"/v1/{secret}")).status_code == 404
        written = ""

        def logged() -> bool:
            nonlocal written
            written += capsys.readouterr().err
            return written.count('" 404') == 1

        await wait_until(logged, timeout_s=10)
    lines = [line for line in written.splitlines() if "uvicorn.access" in line]
    if fmt == "json":
        lines = [json.loads(line)["msg"] for line in lines]
    assert len(lines) == 2, written
    assert secret not in written
    assert secret.split("_")[2] not in written
    assert "hunter2" not in written
    assert f"GET /v1/sensors?sensor=yp-wp-0001&api_key=cvk_{key_id}_<redacted>" in lines[0]
    assert '&token=<redacted> HTTP/1.1" 401' in lines[0]
    assert f'GET /v1/cvk_{key_id}_<redacted> HTTP/1.1" 404' in lines[1]


def test_redaction_leaves_the_rest_of_a_line_alone() -> None:
    line = '127.0.0.1:5 - "GET /v1/readings?sensor=yp-wp-0001&keyset=&start=1 HTTP/1.1" 200'
    assert redact(line) == line
    assert redact("?a=1&X-API-Key=abc&b=2") == "?a=1&X-API-Key=<redacted>&b=2"
    assert redact("password=x and ?passwd=y") == "password=x and ?passwd=<redacted>"


def test_json_lines_redact_extra_fields_too() -> None:
    record = logging.makeLogRecord({"msg": "refused", "url": "/v1/sensors?token=hunter2", "n": 3})
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["url"], entry["n"]) == ("/v1/sensors?token=<redacted>", 3)
