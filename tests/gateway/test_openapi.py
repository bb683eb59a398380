"""The OpenAPI document: complete, with examples; schemathesis finds no server errors and no
answers that break it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from cityvitals.configs import gateway_config
from cityvitals.settings import Settings
from gateway.app import create_app
from tests.gateway.serving import serving

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
# The schemathesis CLI, with one workaround: urllib3-future (a dependency of niquests, which
# grafana-client brings in) replaces urllib3's files, and its pool container lacks the .keys()
# schemathesis uses to count connections (only to decide whether to resend a request dropped
# by a keep-alive race). Counting nothing keeps that resend logic off; nothing else changes.
RUN_SCHEMATHESIS = """
import sys
import schemathesis.transport.requests as transport
transport._count_opened_connections = lambda session: 0
from schemathesis.cli import schemathesis
sys.exit(schemathesis())
"""


def test_every_operation_is_documented(settings: Settings) -> None:
    document = create_app(gateway_config(settings)).openapi()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), f"{where}: no description"
            assert operation.get("tags"), f"{where}: no tag"
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), f"{where}: no 2xx"
            if path not in ("/healthz", "/readyz"):
                assert operation.get("security"), f"{where}: no security requirement"
                for code in ("401", "403", "422"):
                    assert code in responses, f"{where}: {code} undocumented"
            body = operation.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                ref = content.get("schema", {}).get("$ref", "")
                model = schemas.get(ref.rsplit("/", 1)[-1], {})
                assert "example" in content or model.get("examples"), f"{where} {media}: no example"
    for name in ("ErrorBody", "AlertOut", "BucketSeries", "VitalSigns", "Sensor", "IngestResult"):
        assert schemas[name].get("examples"), f"{name}: no example"


async def test_schemathesis_finds_no_server_errors(settings: Settings, tmp_path: Path) -> None:
    async with serving(settings) as served:
        command = [
            sys.executable,
            "-c",
            RUN_SCHEMATHESIS,
            "run",
            f"{served.url}/openapi.json",
            "--header",
            f"X-API-Key: {served.keys['admin']}",
            "--checks",
            CHECKS,
            # The live stream never ends; test_stream.py covers it.
            "--exclude-path",
            "/v1/stream",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "20",
            "--seed",
            "6",
            # One worker: with two threads, CPython 3.11.7 now and then raised a spurious
            # "SystemError: AST constructor recursion depth mismatch" inside schemathesis
            # (python/cpython gh-106905), failing the run with no finding about our API.
            "--workers",
            "1",
            "--request-timeout",
            "20",
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report
