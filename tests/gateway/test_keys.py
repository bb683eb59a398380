"""API keys: the CLI (secret printed once, stored hashed) and the admin endpoints."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from cityvitals.cli import app
from gateway.keys import hash_key
from storage.api_keys import insert_key
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


async def test_cli_binds_ingest_keys_or_says_they_are_unbound(
    prepared: ScratchDatabase, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    created = await cli(
        "keys", "create", "pumps", "--role", "ingest", "--sensors", "yp-wp-0001, yp-wp-0002"
    )
    assert created.exit_code == 0, created.output
    assert "posts readings for sensors yp-wp-0001, yp-wp-0002" in created.output
    secret = re.search(r"secret \(shown only now\): (\S+)", created.output)
    assert secret is not None
    headers = {"X-API-Key": secret.group(1)}
    ts = gateway.clock().isoformat()
    ours = {"ts": ts, "metrics": {"pressure": 0.3}}
    posted = await gateway.client.post(
        "/v1/ingest/water/yinhang/yp-wp-0002/telemetry", headers=headers, json=ours
    )
    assert posted.status_code == 200, posted.text
    other = await gateway.client.post(
        "/v1/ingest/water/yinhang/yp-wf-0001/telemetry", headers=headers, json=ours
    )
    assert_error(other, 403, "sensor_id")

    area = ("--prefix", "yp-wp-", "--domain", "water", "--subdistrict", "yinhang")
    assert (await cli("keys", "create", "area", "--role", "ingest", *area)).exit_code == 0
    platform = await cli("keys", "create", "platform", "--role", "ingest", "--unbound")
    assert platform.exit_code == 0, platform.output
    # A stored name from before names were checked is shown escaped, not played to the terminal.
    async with gateway.state.pool.acquire() as conn:
        await insert_key(conn, "0123456789ab", "old\x1b[2Jname", "viewer", "0" * 64)
    listed = (await cli("keys", "list")).output
    assert re.search(r"\s+ingest\s+pumps .*posts for sensors yp-wp-0001, yp-wp-0002$", listed, re.M)
    words = "posts for sensors yp-wp-\\* of domain water in subdistrict yinhang$"
    assert re.search(rf"\s+ingest\s+area .*{words}", listed, re.M), listed
    assert re.search(r"\s+ingest\s+platform .*posts for any sensor \(unbound\)$", listed, re.M)
    assert re.search(r"\s+ingest\s+test-ingest .*posts for any sensor \(unbound\)$", listed, re.M)
    assert re.search(r"\s+viewer\s+test-viewer .*\)$", listed, re.M)  # posts for nothing
    assert "old\\u001b[2Jname" in listed
    assert "\x1b" not in listed

    refused = [
        (("--role", "ingest"), "--sensors, --prefix, --domain, --subdistrict or --unbound"),
        (("--role", "operator", "--sensors", "yp-wp-0001"), "--sensors: only ingest keys"),
        (("--role", "ingest", "--domain", "air"), "--domain: 'air' is not one of"),
        (("--role", "ingest", "--sensors", "a,b", "--prefix", "a"), "--prefix: give sensor ids"),
        (("--role", "ingest", "--sensors", " , "), "--sensors: name at least one sensor id"),
    ]
    for args, words in refused:
        answer = await cli("keys", "create", "x", *args)
        assert answer.exit_code == 1, (args, answer.output)
        assert words in answer.output, (args, answer.output)


async def test_admin_endpoints(gateway: Gateway) -> None:
    created = await gateway.post(
        "/v1/keys", role="admin", json={"name": "nb-iot", "role": "ingest", "unbound": True}
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["secret"].startswith(f"cvk_{key['id']}_")
    assert (key["unbound"], key["scope"], key["posts_for"]) == (True, None, "any sensor (unbound)")
    listed = (await gateway.get("/v1/keys", role="admin")).json()
    assert key["id"] in [k["id"] for k in listed]
    assert all("secret" not in k for k in listed)
    revoked = await gateway.delete(f"/v1/keys/{key['id']}", role="admin")
    assert revoked.json()["revoked_at"] is not None
    assert_error(await gateway.delete(f"/v1/keys/{key['id']}", role="admin"), 404, "key_id")
    bad = {"name": "x", "role": "root"}
    assert_error(await gateway.post("/v1/keys", role="admin", json=bad), 422, "role")
    assert_error(await gateway.post("/v1/keys", role="operator", json=bad), 403)


async def test_ingest_keys_are_bound_or_named_unbound(gateway: Gateway) -> None:
    scope = {"sensors": ["yp-wp-0002", "yp-wp-0001"], "subdistrict": "yinhang"}
    body = {"name": "yinhang pressure", "role": "ingest", "scope": scope}
    created = await gateway.post("/v1/keys", role="admin", json=body)
    assert created.status_code == 201, created.text
    bound = created.json()
    assert bound["scope"] == {
        "sensors": ["yp-wp-0001", "yp-wp-0002"],
        "prefix": None,
        "domain": None,
        "subdistrict": "yinhang",
    }
    assert bound["unbound"] is False
    assert bound["posts_for"] == "sensors yp-wp-0001, yp-wp-0002 in subdistrict yinhang"
    listed = {k["name"]: k for k in (await gateway.get("/v1/keys", role="admin")).json()}
    assert listed["yinhang pressure"]["scope"] == bound["scope"]
    # The fixture's ingest key predates scopes: unbound, and the listing says so.
    assert (listed["test-ingest"]["unbound"], listed["test-ingest"]["scope"]) == (True, None)
    assert listed["test-admin"]["unbound"] is False  # only ingest keys are said to be
    assert listed["test-admin"]["posts_for"] == "any sensor"
    assert listed["test-viewer"]["posts_for"] is None

    refused: list[tuple[dict[str, Any], str, str]] = [
        ({"role": "ingest"}, "scope", "an unbound key, said explicitly"),
        ({"role": "viewer", "scope": {"prefix": "yp-"}}, "scope.prefix", "only ingest keys"),
        ({"role": "ingest", "scope": {"domain": "air"}}, "scope.domain", "'air' is not one of"),
        ({"role": "ingest", "unbound": True, "scope": {"prefix": "yp-"}}, "unbound", "no prefix"),
        ({"role": "ingest", "scope": {"sensors": ["a b"]}}, "scope.sensors", "not a sensor id"),
    ]
    for request, field, words in refused:
        answer = await gateway.post("/v1/keys", role="admin", json={"name": "x", **request})
        assert words in assert_error(answer, 422, field)["detail"], request


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("meter\u202egnp.exe", "character 6 is U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066admin\u2069", "character 1 is U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("ops \x1b[31mwall", "character 5 is U+001B, a control character"),
        ("ops\nwall", "character 4 is U+000A, a control character"),
        ("zero\u200bwidth", "character 5 is U+200B ZERO WIDTH SPACE, an invisible"),
        (" padded", "must not start or end with white space"),
    ],
)
async def test_key_names_hold_printable_text_only(
    gateway: Gateway,
    prepared: ScratchDatabase,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    words: str,
) -> None:
    body = {"name": name, "role": "viewer"}
    error = assert_error(await gateway.post("/v1/keys", role="admin", json=body), 422, "name")
    assert error["detail"].startswith("name: "), error
    assert words in error["detail"], error
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    if name.strip() == name:  # the CLI strips the ends: what it refuses is what is left inside
        created = await cli("keys", "create", name, "--role", "viewer")
        assert created.exit_code == 1, created.output
        assert f"NAME: {words}" in " ".join(created.output.split()), created.output
    assert name not in [k["name"] for k in (await gateway.get("/v1/keys", role="admin")).json()]
