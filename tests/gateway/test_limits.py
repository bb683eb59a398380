"""Request size limits and CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from cityvitals.embedded import EmbeddedMosquitto
from tests.gateway.conftest import Gateway, assert_error, gateway_settings, running_gateway
from tests.harness import ScratchDatabase

INGEST = "/v1/ingest/water/yinhang/yp-wp-0001/telemetry"


async def test_too_large_bodies_are_refused_with_413(gateway: Gateway) -> None:
    limit = gateway.state.config.max_request_bytes
    big = b"x" * (limit + 1)
    assert_error(await gateway.post(INGEST, role="ingest", content=big), 413, "body")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(limit // 65_536 + 2):
            yield b"y" * 65_536

    streamed = await gateway.post("/v1/sensor-types", role="admin", content=chunks())
    body = assert_error(streamed, 413, "body")
    assert "max_request_bytes" in body["detail"]
    # Nothing of either reached the dead letters: they were refused before being read.
    async with gateway.state.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_cors_only_for_configured_origins(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, now: datetime
) -> None:
    settings = gateway_settings(
        prepared.url, mqtt_broker.url, cors_origins=["https://wall.yangpu.example"]
    )
    async with running_gateway(settings, prepared.url, now) as gateway:
        preflight = await gateway.client.options(
            "/v1/vital-signs",
            headers={
                "Origin": "https://wall.yangpu.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://wall.yangpu.example"
        other = await gateway.get("/v1/vital-signs", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
