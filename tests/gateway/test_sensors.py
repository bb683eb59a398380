"""Sensor endpoints: filtered listings with pagination, one sensor, registration."""

from __future__ import annotations

from datetime import timedelta

from storage.status import StatusChange, record_status_changes
from tests.gateway.conftest import Gateway, assert_error, write_readings


async def test_list_filters_and_pages(gateway: Gateway) -> None:
    everything = (await gateway.get("/v1/sensors", params={"limit": 1000})).json()
    assert len(everything["items"]) == 54
    assert everything["next"] is None
    water = (await gateway.get("/v1/sensors", params={"domain": "water"})).json()["items"]
    assert {s["domain"] for s in water} == {"water"}
    yinhang = await gateway.get(
        "/v1/sensors", params={"subdistrict": "yinhang", "type": "water_main_pressure"}
    )
    assert [s["id"] for s in yinhang.json()["items"]] == ["yp-wp-0001", "yp-wp-0002"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get("/v1/sensors", params=params)).json()
        seen += [s["id"] for s in page["items"]]
        if (cursor := page["next"]) is None:
            break
    assert seen == sorted(s["id"] for s in everything["items"])
    unknown = (await gateway.get("/v1/sensors", params={"status": "unknown"})).json()
    assert len(unknown["items"]) == 54
    assert_error(await gateway.get("/v1/sensors", params={"cursor": "bm9wZQ"}), 422, "cursor")
    assert_error(await gateway.get("/v1/sensors", params={"limit": 0}), 422, "limit")
    assert_error(await gateway.get("/v1/sensors", params={"subdistrict": "pudong"}), 422)


async def test_one_sensor_with_latest_values_and_status_history(gateway: Gateway) -> None:
    now = gateway.clock()
    await write_readings(gateway, "yp-wp-0001", "pressure", now - timedelta(minutes=10), 5)
    await write_readings(
        gateway, "yp-wp-0001", "battery", now - timedelta(hours=1), 1, value=lambda i: 80
    )
    key = gateway.state.resolver.catalog.sensors["yp-wp-0001"].id
    async with gateway.state.pool.acquire() as conn:
        await record_status_changes(
            conn,
            [
                StatusChange(key, now - timedelta(hours=2), True),
                StatusChange(key, now - timedelta(minutes=30), False),
            ],
        )
    one = await gateway.get("/v1/sensors/yp-wp-0001")
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["online"] is False
    assert {v["metric"]: v["value"] for v in body["latest"]} == {"pressure": 0.004, "battery": 80}
    assert [c["online"] for c in body["status_history"]] == [False, True]
    offline = (await gateway.get("/v1/sensors", params={"status": "offline"})).json()["items"]
    assert [s["id"] for s in offline] == ["yp-wp-0001"]
    assert_error(await gateway.get("/v1/sensors/nope"), 404, "sensor_id")


async def test_register_and_update_a_sensor(gateway: Gateway) -> None:
    body = {"type": "drain_level", "subdistrict": "daqiao", "name": "新井"}
    created = await gateway.put("/v1/sensors/yp-dl-0100", json=body)
    assert created.status_code == 201, created.text
    moved = await gateway.put("/v1/sensors/yp-dl-0100", json={**body, "subdistrict": "yinhang"})
    assert moved.json() == {
        "id": "yp-dl-0100",
        "outcome": "updated",
        "subdistrict": "yinhang",
        "warning": None,
    }
    shown = (await gateway.get("/v1/sensors/yp-dl-0100")).json()
    assert (shown["subdistrict"], shown["origin"], shown["name"]) == ("yinhang", "api", "新井")
    assert_error(await gateway.put("/v1/sensors/x", json={**body, "type": "nope"}), 422, "type")
    bad_place = {**body, "subdistrict": "pudong"}
    assert_error(await gateway.put("/v1/sensors/x", json=bad_place), 422, "subdistrict")
    assert_error(await gateway.put("/v1/sensors/-bad-", json=body), 422, "sensor_id")
    assert_error(await gateway.put("/v1/sensors/x", json={**body, "lat": 200}), 422, "lat")
    assert_error(await gateway.put("/v1/sensors/x", json={"type": "drain_level"}), 422)
    assert_error(await gateway.put("/v1/sensors/x", role="operator", json=body), 403)


async def test_a_registered_sensor_is_placed_by_its_coordinates(gateway: Gateway) -> None:
    """No subdistrict: placed by point-in-polygon; a contradicting one: kept and reported;
    outside every district: refused, naming the sensor and its coordinates."""
    placed = await gateway.put(
        "/v1/sensors/yp-dl-0200", json={"type": "drain_level", "lat": 31.3244, "lon": 121.5358}
    )
    assert placed.status_code == 201, placed.text
    assert (placed.json()["subdistrict"], placed.json()["warning"]) == ("yinhang", None)
    shown = (await gateway.get("/v1/sensors/yp-dl-0200")).json()
    assert (shown["subdistrict"], shown["lat"], shown["lon"]) == ("yinhang", 31.3244, 121.5358)
    named = {"type": "drain_level", "subdistrict": "daqiao", "lat": 31.3244, "lon": 121.5358}
    kept = (await gateway.put("/v1/sensors/yp-dl-0201", json=named)).json()
    assert kept["subdistrict"] == "daqiao"
    assert kept["warning"] == (
        "sensor 'yp-dl-0201' names subdistrict 'daqiao' (大桥街道) but (31.3244, 121.5358) lies "
        "in 'yinhang' (殷行街道); kept in 'daqiao'"
    )
    outside = {"type": "drain_level", "lat": 31.1, "lon": 121.4}
    refused = assert_error(await gateway.put("/v1/sensors/yp-dl-0202", json=outside), 422, "lat")
    assert refused["detail"] == (
        "lat: sensor 'yp-dl-0202': (31.1, 121.4) is outside every configured district "
        "(杨浦区 (yangpu))"
    )
    half = {"type": "drain_level", "lat": 31.3244}
    assert_error(await gateway.put("/v1/sensors/yp-dl-0203", json=half), 422, "lon")
    assert (await gateway.get("/v1/sensors/yp-dl-0202")).status_code == 404


async def test_a_telemetry_only_sensor_is_online_while_it_reports(gateway: Gateway) -> None:
    # water_main_pressure reports every minute: online until three minutes of silence.
    await write_readings(gateway, "yp-wp-0001", "pressure", gateway.clock(), 1)

    async def shown() -> tuple[bool | None, bool | None, list[str]]:
        one = (await gateway.get("/v1/sensors/yp-wp-0001")).json()
        never = (await gateway.get("/v1/sensors/yp-wp-0002")).json()
        offline = (await gateway.get("/v1/sensors", params={"status": "offline"})).json()
        return one["online"], never["online"], [s["id"] for s in offline["items"]]

    assert await shown() == (True, None, [])
    gateway.clock.advance(timedelta(minutes=3))
    assert await shown() == (False, None, ["yp-wp-0001"])
