"""Alerts: listings and filters, the closed loop with its audit trail, silences."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.model import Alert, Grade, Phase, Subject
from alerts.store import upsert_alerts
from tests.gateway.conftest import Gateway, assert_error

RULE = "default:water_main_pressure:pressure:below"


async def store_alerts(gateway: Gateway, now: datetime) -> dict[str, str]:
    """A firing orange alert in Yinhang, a pending blue one in Daqiao, an inactive one."""
    alerts = {
        "firing": Alert(
            RULE,
            Subject("sensor", "yp-wp-0001", "water", "yinhang"),
            phase=Phase.FIRING,
            grade=Grade.ORANGE,
            value=0.15,
            pending_since=now - timedelta(minutes=5),
            firing_since=now - timedelta(minutes=3),
            labels={"type": "water_main_pressure", "metric": "pressure"},
        ),
        "pending": Alert(
            "default:drain_level:level:above",
            Subject("sensor", "yp-dl-0003", "water", "daqiao"),
            phase=Phase.PENDING,
            grade=Grade.BLUE,
            value=1.2,
            pending_since=now - timedelta(minutes=1),
        ),
        "inactive": Alert(RULE, Subject("sensor", "yp-wp-0004", "water", "jiangpu_road")),
    }
    async with gateway.state.pool.acquire() as conn:
        for i, alert in enumerate(alerts.values()):
            await upsert_alerts(conn, [(None, alert, {})], now - timedelta(seconds=10 - i))
    return {name: alert.fingerprint for name, alert in alerts.items()}


async def test_list_and_filter(gateway: Gateway) -> None:
    fp = await store_alerts(gateway, gateway.clock())
    everything = (await gateway.get("/v1/alerts")).json()
    assert [a["fingerprint"] for a in everything["items"]] == [
        fp["inactive"],
        fp["pending"],
        fp["firing"],
    ]
    firing = (await gateway.get("/v1/alerts", params={"phase": "firing", "ops": "open"})).json()
    assert [a["fingerprint"] for a in firing["items"]] == [fp["firing"]]
    assert firing["items"][0]["subject"] == {
        "kind": "sensor",
        "id": "yp-wp-0001",
        "domain": "water",
        "subdistrict": "yinhang",
    }
    assert firing["items"][0]["state"] is None  # pressure is no enumerated state
    active = await gateway.get("/v1/alerts", params=[("phase", "firing"), ("phase", "pending")])
    assert len(active.json()["items"]) == 2
    daqiao = (await gateway.get("/v1/alerts", params={"subdistrict": "daqiao"})).json()
    assert [a["grade"] for a in daqiao["items"]] == ["blue"]
    first = (await gateway.get("/v1/alerts", params={"limit": 2})).json()
    rest = (await gateway.get("/v1/alerts", params={"limit": 2, "cursor": first["next"]})).json()
    assert [a["fingerprint"] for a in first["items"] + rest["items"]] == [
        a["fingerprint"] for a in everything["items"]
    ]
    assert rest["next"] is None
    assert_error(await gateway.get("/v1/alerts", params={"grade": "purple"}), 422, "grade.0")
    assert_error(await gateway.get("/v1/alerts/nope"), 404, "fingerprint")


async def test_the_closed_loop_and_its_audit_trail(gateway: Gateway) -> None:
    fp = (await store_alerts(gateway, gateway.clock()))["firing"]
    base = f"/v1/alerts/{fp}"
    acked = await gateway.post(f"{base}/acknowledge", json={"note": "crew on the way"})
    assert acked.status_code == 200, acked.text
    assert (acked.json()["ops"], acked.json()["acknowledged_by"]) == (
        "acknowledged",
        "test-operator",
    )
    assigned = await gateway.post(f"{base}/assign", json={"to": "water-crew-3"})
    assert (assigned.json()["ops"], assigned.json()["assignee"]) == ("assigned", "water-crew-3")
    noted = await gateway.post(f"{base}/notes", json={"note": "valve closed"})
    assert noted.json()["note"] == "valve closed"
    closed = await gateway.post(
        f"{base}/close", json={"confirm_firing": True, "note": "valve replaced, pressure rising"}
    )
    assert closed.json()["ops"] == "closed"
    detail = (await gateway.get(base)).json()
    assert [t["kind"] for t in detail["transitions"]] == [
        "closed",
        "note",
        "assigned",
        "acknowledged",
    ]
    assert {t["actor"] for t in detail["transitions"]} == {"test-operator"}
    audit = (await gateway.get("/v1/audit", params={"actor": "test-operator", "limit": 3})).json()
    assert len(audit["items"]) == 3
    more = (await gateway.get("/v1/audit", params={"cursor": audit["next"]})).json()
    assert [t["kind"] for t in more["items"]] == ["acknowledged"]
    assert more["items"][0]["subdistrict"] == "yinhang"
    # Closed is closed; an unknown alert is 404; a viewer may not act; bodies are checked.
    assert_error(await gateway.post(f"{base}/acknowledge", json={}), 409)
    assert_error(await gateway.post("/v1/alerts/nope/close", json={}), 404, "fingerprint")
    assert_error(await gateway.post(f"{base}/close", role="viewer", json={}), 403)
    assert_error(await gateway.post(f"{base}/assign", json={"to": ""}), 422, "to")
    assert_error(await gateway.post(f"{base}/notes", json={"note": "  "}), 422)
    assert_error(await gateway.post(f"{base}/notes", json={"text": "x"}), 422)
    assert_error(await gateway.post(f"{base}/notes", content=b"{not json"), 422)


async def test_silences(gateway: Gateway) -> None:
    now = gateway.clock()
    body = {"matchers": ["subdistrict=yinhang", 'grade=~"blue|yellow"'], "comment": "works"}
    ends = (now + timedelta(hours=2)).isoformat()
    created = await gateway.post("/v1/silences", json={**body, "ends_at": ends})
    assert created.status_code == 201, created.text
    silence = created.json()
    assert (silence["active"], silence["created_by"]) == (True, "test-operator")
    listed = (await gateway.get("/v1/silences")).json()
    assert [s["id"] for s in listed] == [silence["id"]]
    expired = await gateway.delete(f"/v1/silences/{silence['id']}")
    assert expired.json()["active"] is False
    assert (await gateway.get("/v1/silences")).json() == []
    assert len((await gateway.get("/v1/silences", params={"include_expired": True})).json()) == 1
    assert_error(await gateway.delete(f"/v1/silences/{silence['id']}"), 404, "silence_id")
    everything = {"matchers": ["sensor!=x"], "ends_at": ends}
    assert_error(await gateway.post("/v1/silences", json=everything), 422, "matchers")
    unknown = {"matchers": ["colour=red"], "ends_at": ends}
    assert (
        "unknown label"
        in assert_error(await gateway.post("/v1/silences", json=unknown), 422)["detail"]
    )
    backwards = {**body, "ends_at": (now - timedelta(hours=1)).isoformat()}
    assert_error(await gateway.post("/v1/silences", json=backwards), 422)
    naive = {**body, "ends_at": "2026-11-25T12:00:00"}
    assert_error(await gateway.post("/v1/silences", json=naive), 422, "ends_at")
    assert_error(await gateway.post("/v1/silences", role="viewer", json=body), 403)


async def test_closing_a_firing_alert_needs_confirmation_and_it_stays_listed(
    gateway: Gateway,
) -> None:
    fp = await store_alerts(gateway, gateway.clock())
    base = f"/v1/alerts/{fp['firing']}"
    refused = assert_error(
        await gateway.post(f"{base}/close", json={"note": "done"}), 409, "confirm_firing"
    )
    assert refused["error"] == "still_firing"
    assert "it still fires at orange, value 0.15 at its last change" in refused["detail"]
    assert "confirm_firing" in refused["detail"]
    pending = assert_error(await gateway.post(f"/v1/alerts/{fp['pending']}/close", json={}), 409)
    assert "pending" in pending["detail"]
    no_note = {"confirm_firing": True}
    assert_error(await gateway.post(f"{base}/close", json=no_note), 422, "note")
    blank = {"confirm_firing": True, "note": "  "}
    assert_error(await gateway.post(f"{base}/close", json=blank), 422, "note")
    assert_error(await gateway.post(f"{base}/close", json={"confirm_firing": "maybe"}), 422)
    untouched = (await gateway.get(base)).json()
    assert (untouched["ops"], untouched["transitions"]) == ("open", [])

    body = {"confirm_firing": True, "note": "known fault, crew booked for 09:00"}
    closed = await gateway.post(f"{base}/close", json=body)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["ops"], closed.json()["closed_while_firing"]) == ("closed", True)
    [line] = (await gateway.get(base)).json()["transitions"]
    assert (line["kind"], line["actor"], line["note"], line["to_phase"], line["grade"]) == (
        "closed",
        "test-operator",
        "known fault, crew booked for 09:00",
        "firing",
        "orange",
    )
    # The duty list (pending and firing) still shows it, marked; it can be asked for alone.
    duty = await gateway.get("/v1/alerts", params=[("phase", "firing"), ("phase", "pending")])
    marks = {a["fingerprint"]: a["closed_while_firing"] for a in duty.json()["items"]}
    assert marks == {fp["firing"]: True, fp["pending"]: False}
    only = (await gateway.get("/v1/alerts", params={"closed_while_firing": True})).json()
    assert [a["fingerprint"] for a in only["items"]] == [fp["firing"]]
    rest = (await gateway.get("/v1/alerts", params={"closed_while_firing": False})).json()
    assert [a["fingerprint"] for a in rest["items"]] == [fp["inactive"], fp["pending"]]
    # Closed is closed: a second close is a plain conflict, not a new confirmation question.
    again = assert_error(await gateway.post(f"{base}/close", json=body), 409)
    assert again["error"] == "conflict"
