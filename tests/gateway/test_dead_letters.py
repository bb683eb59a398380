"""Dead letters: inspect, and replay once the cause is fixed."""

from __future__ import annotations

import base64

from tests.gateway.conftest import Gateway, assert_error

UNKNOWN = "/v1/ingest/water/yinhang/yp-wp-0099/telemetry"


async def test_inspect_and_replay_after_registering_the_sensor(gateway: Gateway) -> None:
    ts = gateway.clock().isoformat()
    body = f'{{"ts": "{ts}", "metrics": {{"pressure": 0.3}}}}'.encode()
    assert_error(await gateway.post(UNKNOWN, role="ingest", content=body), 422)
    assert_error(await gateway.post(UNKNOWN, role="ingest", content=b"\xff\xfe"), 422)
    listed = (await gateway.get("/v1/dead-letters", role="operator")).json()
    binary, letter = listed["items"]
    assert (letter["reason"], letter["payload_text"], letter["size"]) == (
        "unknown_sensor",
        body.decode(),
        len(body),
    )
    assert base64.b64decode(binary["payload_base64"]) == b"\xff\xfe"
    one = await gateway.get(f"/v1/dead-letters/{letter['id']}", role="operator")
    assert one.json() == letter
    filtered = await gateway.get("/v1/dead-letters", role="operator", params={"reason": "bad_utf8"})
    assert [d["id"] for d in filtered.json()["items"]] == [binary["id"]]
    page = (await gateway.get("/v1/dead-letters", role="operator", params={"limit": 1})).json()
    rest = (
        await gateway.get("/v1/dead-letters", role="operator", params={"cursor": page["next"]})
    ).json()
    assert [d["id"] for d in page["items"] + rest["items"]] == [binary["id"], letter["id"]]

    still = await gateway.post("/v1/dead-letters/replay", role="admin", json={})
    assert still.json()["replayed"] == 0
    assert {f["reason"] for f in still.json()["failed"]} == {"unknown_sensor", "bad_utf8"}
    sensor = {"type": "water_main_pressure", "subdistrict": "yinhang"}
    assert (await gateway.put("/v1/sensors/yp-wp-0099", json=sensor)).status_code == 201
    replay = await gateway.post(
        "/v1/dead-letters/replay", role="admin", json={"ids": [letter["id"]]}
    )
    assert replay.status_code == 200, replay.text
    assert replay.json() == {
        "selected": 1,
        "replayed": 1,
        "stored": 1,
        "duplicates": 0,
        "failed": [],
    }
    shown = (await gateway.get(f"/v1/dead-letters/{letter['id']}", role="operator")).json()
    assert shown["replayed_at"] is not None
    again = await gateway.post(
        "/v1/dead-letters/replay", role="admin", json={"ids": [letter["id"]]}
    )
    assert again.json()["selected"] == 0  # replayed letters are not replayed twice
    unreplayed = await gateway.get("/v1/dead-letters", role="operator", params={"replayed": False})
    assert [d["id"] for d in unreplayed.json()["items"]] == [binary["id"]]


async def test_errors_and_roles(gateway: Gateway) -> None:
    assert_error(await gateway.get("/v1/dead-letters/12345", role="operator"), 404, "letter_id")
    assert_error(await gateway.get("/v1/dead-letters/0", role="operator"), 422, "letter_id")
    assert_error(await gateway.get("/v1/dead-letters/x", role="operator"), 422, "letter_id")
    assert_error(await gateway.post("/v1/dead-letters/replay", role="operator", json={}), 403)
    bad = {"limit": 5000}
    assert_error(
        await gateway.post("/v1/dead-letters/replay", role="admin", json=bad), 422, "limit"
    )
