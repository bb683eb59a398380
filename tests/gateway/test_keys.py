"""API keys: the CLI (secret printed once, stored hashed) and the admin endpoints."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from cityvitals.cli import app
from gateway.keys import hash_key
from tests.gateway.conftest import Gateway, assert_error
from tests.harness import ScratchDatabase

runner = CliRunner()


async def cli(*args: str) -> Result:
    """The command in a thread: it runs its own event loop."""
    return await asyncio.to_thread(runner.invoke, app, list(args))


async def test_cli_create_list_revoke(
    prepared: ScratchDatabase, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    created = await cli("keys", "create", "ops wall", "--role", "operator")
    assert created.exit_code == 0, created.output
    secret = re.search(r"secret \(shown only now\): (\S+)", created.output)
    assert secret is not None
    key_id = secret.group(1).split("_")[1]
    conn = await asyncpg.connect(prepared.url)
    try:
        stored = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", key_id)
    finally:
        await conn.close()
    assert stored["secret_hash"] == hash_key(secret.group(1))
    assert secret.group(1) not in str(dict(stored))
    headers = {"X-API-Key": secret.group(1)}
    assert (await gateway.client.get("/v1/alerts", headers=headers)).status_code == 200

    listed = await cli("keys", "list")
    assert re.search(rf"{key_id}\s+operator\s+ops wall", listed.output), listed.output
    assert secret.group(1) not in listed.output
    revoked = await cli("keys", "revoke", key_id)
    assert revoked.exit_code == 0, revoked.output
    assert_error(await gateway.client.get("/v1/alerts", headers=headers), 401)
    assert key_id not in (await cli("keys", "list")).output
    assert key_id in (await cli("keys", "list", "--all")).output
    assert (await cli("keys", "revoke", key_id)).exit_code == 1
    bad_role = await cli("keys", "create", "x", "--role", "root")
    assert bad_role.exit_code == 1
    assert "--role" in bad_role.output


async def test_admin_endpoints(gateway: Gateway) -> None:
    created = await gateway.post(
        "/v1/keys", role="admin", json={"name": "nb-iot", "role": "ingest"}
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["secret"].startswith(f"cvk_{key['id']}_")
    listed = (await gateway.get("/v1/keys", role="admin")).json()
    assert key["id"] in [k["id"] for k in listed]
    assert all("secret" not in k for k in listed)
    revoked = await gateway.delete(f"/v1/keys/{key['id']}", role="admin")
    assert revoked.json()["revoked_at"] is not None
    assert_error(await gateway.delete(f"/v1/keys/{key['id']}", role="admin"), 404, "key_id")
    bad = {"name": "x", "role": "root"}
    assert_error(await gateway.post("/v1/keys", role="admin", json=bad), 422, "role")
    assert_error(await gateway.post("/v1/keys", role="operator", json=bad), 403)
