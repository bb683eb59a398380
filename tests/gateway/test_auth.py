"""Access control: keys required everywhere but health, roles enforced, keys revocable."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.routing import APIRoute

from gateway.app import ROUTERS
from gateway.auth import Role, permits
from gateway.keys import generate_key
from storage.api_keys import revoke_key
from tests.gateway.conftest import Gateway, assert_error, gateway_settings, running_gateway
from tests.harness import ScratchDatabase


def test_role_hierarchy() -> None:
    assert permits(Role.ADMIN, Role.OPERATOR)
    assert permits(Role.OPERATOR, Role.VIEWER)
    assert not permits(Role.VIEWER, Role.OPERATOR)
    assert not permits(Role.OPERATOR, Role.ADMIN)
    # Device keys post readings and nothing else; admins may post readings too.
    assert permits(Role.INGEST, Role.INGEST)
    assert permits(Role.ADMIN, Role.INGEST)
    assert not permits(Role.INGEST, Role.VIEWER)
    assert not permits(Role.OPERATOR, Role.INGEST)


async def test_health_is_open_and_everything_else_needs_a_key(gateway: Gateway) -> None:
    assert (await gateway.get("/healthz", role=None)).json() == {"status": "ok"}
    ready = await gateway.get("/readyz", role=None)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": "ok", "broker": "ok"}
    for path in ("/metrics", "/v1/sensors", "/v1/sensor-types", "/v1/alerts", "/v1/keys"):
        body = assert_error(await gateway.get(path, role=None), 401)
        assert "missing API key" in body["detail"]
    missing = await gateway.post("/v1/ingest/water/yinhang/yp-wp-0001/telemetry", role=None)
    assert_error(missing, 401)


async def test_bad_unknown_and_revoked_keys_are_refused(gateway: Gateway) -> None:
    client = gateway.client
    assert_error(await client.get("/v1/sensors", headers={"X-API-Key": "hunter2"}), 401)
    stranger = generate_key().secret
    body = assert_error(await client.get("/v1/sensors", headers={"X-API-Key": stranger}), 401)
    assert "unknown API key" in body["detail"]
    # The right id with a wrong secret is as unknown as a wrong id.
    viewer = gateway.keys["viewer"]
    forged = viewer[:-4] + ("AAAA" if not viewer.endswith("AAAA") else "BBBB")
    assert_error(await client.get("/v1/sensors", headers={"X-API-Key": forged}), 401)
    bearer = {"Authorization": f"Bearer {viewer}"}
    assert (await client.get("/v1/sensors", headers=bearer)).status_code == 200
    async with gateway.state.pool.acquire() as conn:
        await revoke_key(conn, viewer.split("_")[1], gateway.clock())
    body = assert_error(await client.get("/v1/sensors", headers=bearer), 401)
    assert "revoked" in body["detail"]


async def test_wrong_role_is_forbidden(gateway: Gateway) -> None:
    body = assert_error(await gateway.get("/v1/keys", role="operator"), 403)
    assert "has role operator; this needs admin" in body["detail"]
    assert_error(await gateway.get("/v1/sensors", role="ingest"), 403)
    assert_error(await gateway.get("/v1/dead-letters", role="viewer"), 403)
    assert_error(await gateway.post("/v1/silences", role="viewer", json={}), 403)
    posted = await gateway.post(
        "/v1/ingest/water/yinhang/yp-wp-0001/telemetry", role="viewer", content=b"{}"
    )
    assert_error(posted, 403)
    assert (await gateway.get("/metrics", role="viewer")).status_code == 200


async def test_docs_can_be_switched_off(prepared: ScratchDatabase, now: datetime) -> None:
    settings = gateway_settings(prepared.url, "mqtt://127.0.0.1:1", docs=False)
    async with running_gateway(settings, prepared.url, now) as gateway:
        for path in ("/docs", "/openapi.json"):
            assert_error(await gateway.get(path, role=None), 404)


async def test_not_ready_names_what_is_down(prepared: ScratchDatabase, now: datetime) -> None:
    settings = gateway_settings(prepared.url, "mqtt://127.0.0.1:1")
    async with running_gateway(settings, prepared.url, now) as gateway:
        ready = await gateway.get("/readyz", role=None)
        assert ready.status_code == 503
        assert ready.json()["database"] == "ok"
        assert ready.json()["broker"].startswith("unreachable")


def required_roles() -> list[tuple[str, str, Role | None]]:
    """(method, path with dummy parameters, role) of every endpoint."""
    found: list[tuple[str, str, Role | None]] = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            calls = [d.call for d in route.dependant.dependencies]
            roles = [getattr(c, "role", None) for c in calls if hasattr(c, "role")]
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            found += [(m, path, roles[0] if roles else None) for m in route.methods or ()]
    return [(m, p, r) for m, p, r in found if p not in OPEN]


OPEN = {"/healthz", "/readyz"}
WEAKER = {
    Role.VIEWER: "ingest",
    Role.OPERATOR: "viewer",
    Role.ADMIN: "operator",
    Role.INGEST: "operator",
}


async def test_every_endpoint_needs_a_key_of_its_role_and_bounds_its_body(
    gateway: Gateway,
) -> None:
    endpoints = required_roles()
    assert len(endpoints) == 31  # every operation but /healthz and /readyz
    too_big = b"x" * (gateway.state.config.max_request_bytes + 1)
    for method, path, role in endpoints:
        assert role is not None, f"{method} {path} is open without a key"
        where = f"{method} {path}"
        missing = await gateway.request(method, path, None)
        assert missing.status_code == 401, where
        weaker = await gateway.request(method, path, WEAKER[role], content=b"{}")
        assert weaker.status_code == 403, where
        assert role.value in weaker.json()["detail"], where
        big = await gateway.request(method, path, role.value, content=too_big)
        assert big.status_code == 413, where
