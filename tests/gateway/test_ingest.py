"""HTTP ingest: the MQTT path's validation and dead letters, and an answer after commit."""

from __future__ import annotations

from typing import Any

from tests.gateway.conftest import Gateway, assert_error

URL = "/v1/ingest/water/yinhang/yp-wp-0001/telemetry"


async def stored(gateway: Gateway) -> list[tuple[Any, ...]]:
    async with gateway.state.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT s.external_id, m.name, r.value FROM readings r "
            "JOIN sensors s ON s.id = r.sensor_id JOIN metrics m ON m.id = r.metric_id "
            "ORDER BY r.ts, m.name"
        )
    return [tuple(r) for r in rows]


async def dead_letters(gateway: Gateway) -> list[tuple[Any, ...]]:
    async with gateway.state.pool.acquire() as conn:
        rows = await conn.fetch("SELECT source, topic, reason, field FROM dead_letters ORDER BY id")
    return [tuple(r) for r in rows]


async def test_readings_are_committed_before_the_answer(gateway: Gateway) -> None:
    ts = int(gateway.clock().timestamp() * 1000)
    reports = [
        {"ts": ts - 60_000, "seq": 1, "metrics": {"pressure": 0.31, "battery": 90}},
        {"ts": ts, "seq": 2, "metrics": {"pressure": {"value": 0.32, "unit": "MPa"}}},
    ]
    posted = await gateway.post(URL, role="ingest", json=reports)
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"stored": 3, "duplicates": 0, "status_changes": 0, "rejected": []}
    assert await stored(gateway) == [
        ("yp-wp-0001", "battery", 90.0),
        ("yp-wp-0001", "pressure", 0.31),
        ("yp-wp-0001", "pressure", 0.32),
    ]
    again = await gateway.post(URL, role="admin", json=reports)  # a retry stores nothing twice
    assert again.json()["duplicates"] == 3
    assert len(await stored(gateway)) == 3
    metrics = (await gateway.get("/metrics")).text
    assert "cityvitals_gateway_ingest_readings_stored_total 3.0" in metrics
    # Requests are counted by route template, not by path (one series per sensor otherwise).
    template = 'route="/v1/ingest/{domain}/{subdistrict}/{sensor_id}/{kind}",status="200"'
    assert f'cityvitals_gateway_requests_total{{method="POST",{template}}} 2.0' in metrics


async def test_bad_parts_are_dead_lettered_like_mqtt(gateway: Gateway) -> None:
    ts = gateway.clock().isoformat()
    partly = await gateway.post(
        URL, role="ingest", json={"ts": ts, "metrics": {"pressure": 2.5, "battery": 50}}
    )
    assert partly.status_code == 200, partly.text
    assert partly.json()["stored"] == 1
    [rejected] = partly.json()["rejected"]
    assert (rejected["reason"], rejected["field"]) == ("out_of_range", "metrics.pressure")
    assert "outside the physical range [0, 1.6] MPa" in rejected["detail"]

    cases: list[tuple[str, bytes, str, str | None]] = [
        (URL, b'{"ts": 1, "metrics"', "bad_json", None),
        (URL, b"", "bad_json", None),
        (URL, b'{"metrics": {"pressure": 0.3}}', "missing_field", "ts"),
        (
            URL,
            b'{"ts": "2026-11-25T08:00:00", "metrics": {"pressure": 0.3}}',
            "bad_timestamp",
            "ts",
        ),
        (
            "/v1/ingest/water/yinhang/yp-unknown/telemetry",
            b'{"ts": 1764028800000, "metrics": {"x": 1}}',
            "unknown_sensor",
            "topic",
        ),
        (
            "/v1/ingest/power/yinhang/yp-wp-0001/telemetry",
            f'{{"ts": "{ts}", "metrics": {{"pressure": 0.3}}}}'.encode(),
            "domain_mismatch",
            "topic",
        ),
        ("/v1/ingest/Air/yinhang/yp-wp-0001/telemetry", b"{}", "bad_topic", "topic"),
        ("/v1/ingest/water/yinhang/yp-wp-0001/events", b"{}", "bad_topic", "topic"),
    ]
    for url, body, reason, field in cases:
        response = await gateway.post(url, role="ingest", content=body)
        error = assert_error(response, 422, field)
        assert error["error"] == reason, (url, body, error)
        assert error["problems"][0]["reason"] == reason
    letters = await dead_letters(gateway)
    assert [r[2] for r in letters] == ["out_of_range"] + [c[2] for c in cases]
    assert {r[0] for r in letters} == {"http"}
    assert letters[0][1] == "city/v1/water/yinhang/yp-wp-0001/telemetry"
    assert len(await stored(gateway)) == 1


async def test_status_over_http(gateway: Gateway) -> None:
    status = "/v1/ingest/water/yinhang/yp-wp-0001/status"
    posted = await gateway.post(status, role="ingest", content=b"offline")
    assert posted.status_code == 200, posted.text
    assert posted.json()["status_changes"] == 1
    assert (await gateway.get("/v1/sensors/yp-wp-0001")).json()["online"] is False
    assert_error(await gateway.post(status, role="ingest", content=b"sleepy"), 422)
