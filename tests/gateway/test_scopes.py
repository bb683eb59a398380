"""Ingest keys bound to sensors: 403 for any other sensor, before anything is stored."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.scopes import ScopeProblem, key_scope
from ingest.resolve import CATALOG_RELOAD_EVERY
from schemas.geography import Geography
from storage.api_keys import KeyScope
from storage.catalog import SensorOrigin, load_catalog, register_sensor
from tests.gateway.conftest import Gateway, assert_error

A, B = "yp-wp-0001", "yp-wp-0002"  # water main pressure, both in yinhang


def url(sensor: str, kind: str = "telemetry", where: str = "water/yinhang") -> str:
    return f"/v1/ingest/{where}/{sensor}/{kind}"


async def bound_key(gateway: Gateway, **scope: Any) -> dict[str, str]:
    """The headers of a new ingest key with `scope`, created through the API."""
    body = {"name": "bound", "role": "ingest", "scope": scope}
    created = await gateway.post("/v1/keys", role="admin", json=body)
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["secret"]}


async def stored_for(gateway: Gateway) -> dict[str, int]:
    """Readings, dead letters and status changes per sensor id (or topic, for dead letters)."""
    async with gateway.state.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT s.external_id AS what, count(*) AS n FROM readings r "
            "JOIN sensors s ON s.id = r.sensor_id GROUP BY 1 "
            "UNION ALL SELECT 'status ' || s.external_id, count(*) FROM sensor_status t "
            "JOIN sensors s ON s.id = t.sensor_id GROUP BY 1 "
            "UNION ALL SELECT 'dead ' || topic, count(*) FROM dead_letters GROUP BY 1"
        )
    return {r["what"]: r["n"] for r in rows}


def report(gateway: Gateway, **metrics: float) -> dict[str, Any]:
    return {"ts": gateway.clock().isoformat(), "metrics": metrics}


async def test_an_ingest_key_bound_to_sensor_a_gets_403_for_sensor_b(gateway: Gateway) -> None:
    key = await bound_key(gateway, sensors=[A])
    before = await stored_for(gateway)
    # The attack of the issue: another sensor's readings, its status, a transformer's oil.
    refused = [
        (url(B), report(gateway, pressure=0.3)),
        (url(B, "status"), None),
        (url("yp-tx-0004", where="power/yinhang"), report(gateway, oil_temperature=140)),
    ]
    for path, body in refused:
        answer = await gateway.client.post(
            path, headers=key, **({"json": body} if body else {"content": b"offline"})
        )
        error = assert_error(answer, 403, "sensor_id")
        sensor = path.split("/")[-2]
        assert f"sensor {sensor!r} is outside the scope of API key" in error["detail"]
        assert f"may post for sensors {A} only" in error["detail"]
    assert await stored_for(gateway) == before  # nothing: no reading, status or dead letter

    posted = await gateway.client.post(url(A), headers=key, json=report(gateway, pressure=0.3))
    assert posted.status_code == 200, posted.text
    assert posted.json()["stored"] == 1
    status = await gateway.client.post(url(A, "status"), headers=key, content=b"offline")
    assert status.status_code == 200, status.text
    assert status.json()["status_changes"] == 1
    after = await stored_for(gateway)
    assert (after.get(A), after.get(f"status {A}")) == (1, 1)
    assert B not in after
    assert f"status {B}" not in after


async def test_a_prefix_scope(gateway: Gateway) -> None:
    key = await bound_key(gateway, prefix="yp-wp-")
    far = await gateway.client.post(
        url("yp-wp-0003", where="water/changbai_xincun"), headers=key, json=report(gateway)
    )
    assert far.status_code == 422, far.text  # in scope: on to validation (an empty report)
    flow = await gateway.client.post(url("yp-wf-0001"), headers=key, json=report(gateway))
    assert "may post for sensors yp-wp-* only" in assert_error(flow, 403, "sensor_id")["detail"]


async def test_a_subdistrict_scope_is_checked_against_the_registration(gateway: Gateway) -> None:
    key = await bound_key(gateway, domain="water", subdistrict="yinhang")
    before = await stored_for(gateway)
    # yp-wp-0003 is registered in changbai_xincun: naming yinhang in the URL does not make it
    # one of yinhang's (the ingest would store it under its registration all the same).
    lied = await gateway.client.post(
        url("yp-wp-0003"), headers=key, json=report(gateway, pressure=0.3)
    )
    detail = assert_error(lied, 403, "sensor_id")["detail"]
    assert "registered in subdistrict 'changbai_xincun'" in detail
    assert "sensors of domain water in subdistrict yinhang only" in detail
    told = await gateway.client.post(
        url("yp-wp-0003", where="water/changbai_xincun"), headers=key, json=report(gateway)
    )
    assert_error(told, 403, "subdistrict")
    transformer = await gateway.client.post(
        url("yp-tx-0004", where="power/yinhang"), headers=key, json=report(gateway)
    )
    assert_error(transformer, 403, "domain")
    assert await stored_for(gateway) == before
    ours = await gateway.client.post(url(B), headers=key, json=report(gateway, pressure=0.3))
    assert ours.status_code == 200, ours.text


async def test_a_sensor_registered_after_the_catalog_loaded_is_checked_after_the_resolve(
    gateway: Gateway,
) -> None:
    """The gateway's catalog does not know the sensor yet; the resolve reloads it and finds it
    registered in another subdistrict: refused, and still nothing stored."""
    key = await bound_key(gateway, subdistrict="yinhang")
    async with gateway.state.pool.acquire() as conn:
        catalog = await load_catalog(conn)
        await register_sensor(
            conn, catalog, "yp-wp-0099", "water_main_pressure", "daqiao", SensorOrigin.API
        )
    assert gateway.state.resolver.catalog.sensor("yp-wp-0099") is None
    gateway.clock.advance(CATALOG_RELOAD_EVERY)  # the catalog may be reloaded now
    before = await stored_for(gateway)
    body = report(gateway, pressure=0.3)
    posted = await gateway.client.post(url("yp-wp-0099"), headers=key, json=body)
    detail = assert_error(posted, 403, "sensor_id")["detail"]
    assert "registered in subdistrict 'daqiao'" in detail
    assert gateway.state.resolver.catalog.sensor("yp-wp-0099") is not None  # it was reloaded
    assert await stored_for(gateway) == before
    # The control: the same post with an unbound key is stored, so the 403 was the scope's.
    unbound = await gateway.post(url("yp-wp-0099"), role="ingest", json=body)
    assert unbound.json()["stored"] == 1, unbound.text


async def test_admin_and_unbound_ingest_keys_post_for_any_sensor(gateway: Gateway) -> None:
    for role in ("admin", "ingest"):
        posted = await gateway.post(url(B), role=role, json=report(gateway, pressure=0.3))
        assert posted.status_code == 200, (role, posted.text)


@pytest.mark.parametrize(
    ("role", "given", "part", "words"),
    [
        ("ingest", {}, "scope", "an IoT platform that posts for any sensor gets an unbound key"),
        ("viewer", {"sensors": [A]}, "sensors", "only ingest keys are bound"),
        ("admin", {"unbound": True}, "unbound", "only ingest keys are bound"),
        ("ingest", {"sensors": [A], "prefix": "yp-"}, "prefix", "ids or an id prefix, not both"),
        ("ingest", {"unbound": True, "domain": "water"}, "unbound", "has no domain"),
        ("ingest", {"sensors": []}, "sensors", "at least one"),
        ("ingest", {"sensors": ["yp wp"]}, "sensors", "'yp wp' is not a sensor id"),
        ("ingest", {"prefix": "-x"}, "prefix", "the start of a sensor id"),
        ("ingest", {"domain": "air"}, "domain", "'air' is not one of buildings, water"),
        ("ingest", {"subdistrict": "pudong"}, "subdistrict", "'pudong' is not a subdistrict"),
    ],
)
def test_a_scope_problem_names_its_part(
    role: str, given: dict[str, Any], part: str, words: str, geography: Geography
) -> None:
    with pytest.raises(ScopeProblem) as raised:
        key_scope(role, **given, geography=geography)
    assert raised.value.part == part
    assert words in raised.value.what


def test_scopes_that_are_fine(geography: Geography) -> None:
    assert key_scope("viewer", geography=geography) is None
    assert key_scope("ingest", unbound=True, geography=geography) is None
    assert key_scope(
        "ingest", sensors=[A, B, A], subdistrict="yinhang", geography=geography
    ) == KeyScope(frozenset({A, B}), None, None, "yinhang")
    assert key_scope("ingest", prefix="yp-wp-", domain="water", geography=geography) == KeyScope(
        None, "yp-wp-", "water", None
    )
