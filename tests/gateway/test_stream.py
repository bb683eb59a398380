"""The live stream over a real socket: vital signs at once, alert transitions as they happen,
resuming with Last-Event-ID, and caps on clients, in all and per API key."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from cityvitals.embedded import EmbeddedMosquitto
from tests.gateway.conftest import gateway_settings
from tests.gateway.serving import serving
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

GUARD_S = 30  # a hung stream fails the test instead of hanging it; nothing is timed


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """SSE events as {"event", "id", "data"}; comments (keep-alives) as {"comment"}."""
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line == "":
            if event:
                yield event
            event = {}
        else:
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value


async def next_event(stream: AsyncIterator[dict[str, Any]], kind: str) -> dict[str, Any]:
    async with asyncio.timeout(GUARD_S):
        async for event in stream:
            if event.get("event") == kind:
                return event
    raise AssertionError(f"the stream ended before a {kind} event")


async def test_live_stream(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> None:
    settings = gateway_settings(prepared.url, mqtt_broker.url, max_streams=2, stream_keepalive=0.2)
    async with (
        asyncio.timeout(2 * GUARD_S),
        serving(settings) as served,
        httpx.AsyncClient(base_url=served.url, timeout=GUARD_S) as client,
    ):
        viewer = {"X-API-Key": served.keys["viewer"]}
        operator = {"X-API-Key": served.keys["operator"]}
        async with client.stream(
            "GET", "/v1/stream", params={"domain": "water"}, headers=viewer
        ) as live:
            assert live.status_code == 200
            assert live.headers["content-type"].startswith("text/event-stream")
            stream = events(live)
            signs = await next_event(stream, "vital_signs")
            assert signs["data"]["domain"] == "water"
            assert len(signs["data"]["subdistricts"]) == 12

            fingerprint = await firing_alert(served.state.pool)
            acked = await client.post(
                f"/v1/alerts/{fingerprint}/acknowledge", json={"note": "seen"}, headers=operator
            )
            assert acked.status_code == 200, acked.text
            alert = await next_event(stream, "alert")
            assert (alert["data"]["kind"], alert["data"]["actor"]) == (
                "acknowledged",
                "served-operator",
            )
            assert alert["id"] == str(alert["data"]["id"])

            # A reconnecting client gets what it missed; a third one is turned away.
            async with client.stream(
                "GET",
                "/v1/stream",
                params={"events": "alerts"},
                headers={**viewer, "Last-Event-ID": "0"},
            ) as resumed:
                # Keep the reader: a dropped async generator closes the response with it.
                resumed_events = events(resumed)
                replayed = await next_event(resumed_events, "alert")
                assert replayed["data"] == alert["data"]
                third = await client.get("/v1/stream", headers=viewer)
                assert third.status_code == 429
                assert third.json()["error"] == "too_busy"
            keepalive = None
            async for event in stream:
                if "comment" in event:
                    keepalive = event["comment"]
                    break
            assert keepalive == "keep-alive"
        bad = await client.get("/v1/stream", headers={**viewer, "Last-Event-ID": "x"})
        assert bad.status_code == 422
        assert (await client.get("/v1/stream")).status_code == 401


async def firing_alert(pool: Any) -> str:
    from alerts.model import Alert, Grade, Phase, Subject
    from alerts.store import upsert_alerts

    now = datetime.now(UTC)
    alert = Alert(
        "default:water_main_pressure:pressure:below",
        Subject("sensor", "yp-wp-0001", "water", "yinhang"),
        phase=Phase.FIRING,
        grade=Grade.RED,
        value=0.1,
        pending_since=now,
        firing_since=now,
    )
    async with pool.acquire() as conn:
        await upsert_alerts(conn, [(None, alert, {})], now)
    return alert.fingerprint


async def test_one_key_cannot_take_every_stream(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> None:
    settings = gateway_settings(
        prepared.url, mqtt_broker.url, max_streams=10, max_streams_per_key=2
    )
    async with (
        asyncio.timeout(2 * GUARD_S),
        serving(settings) as served,
        httpx.AsyncClient(base_url=served.url, timeout=GUARD_S) as client,
        contextlib.AsyncExitStack() as streams,
    ):
        viewer = {"X-API-Key": served.keys["viewer"]}
        hub = served.state.hub
        opened = [
            await streams.enter_async_context(client.stream("GET", "/v1/stream", headers=viewer))
            for _ in range(2)
        ]
        assert [s.status_code for s in opened] == [200, 200]
        third = await client.get("/v1/stream", headers=viewer)
        assert third.status_code == 429
        assert "gateway.max_streams_per_key" in third.json()["detail"]
        other = {"X-API-Key": served.keys["operator"]}
        async with client.stream("GET", "/v1/stream", headers=other) as another:
            assert another.status_code == 200  # the key's cap, not the gateway's
        await opened[0].aclose()  # a stream that ends gives its place back
        await wait_until(lambda: hub.open_streams() == 1, timeout_s=GUARD_S)
        async with client.stream("GET", "/v1/stream", headers=viewer) as again:
            assert again.status_code == 200
