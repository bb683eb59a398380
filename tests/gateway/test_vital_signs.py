"""Vital signs: per domain, for the city, each district and each subdistrict."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.status import StatusChange, record_status_changes
from tests.gateway.conftest import Gateway, assert_error, write_readings
from tests.gateway.test_alerts import store_alerts


async def test_current_figures(gateway: Gateway) -> None:
    now = gateway.clock()
    # yp-wp-0001 and -0002 in Yinhang, -0003 elsewhere; one reading each, one too old.
    for sensor, value in (("yp-wp-0001", 0.30), ("yp-wp-0002", 0.20), ("yp-wp-0003", 0.40)):
        await write_readings(
            gateway, sensor, "pressure", now - timedelta(minutes=1), 1, value=lambda i, v=value: v
        )
    await write_readings(gateway, "yp-wp-0004", "pressure", now - timedelta(hours=1), 1)
    key = gateway.state.resolver.catalog.sensors["yp-wp-0001"].id
    async with gateway.state.pool.acquire() as conn:
        await record_status_changes(conn, [StatusChange(key, now - timedelta(minutes=5), True)])
    await store_alerts(gateway, now)

    response = await gateway.get("/v1/vital-signs", params={"domain": "water"})
    assert response.status_code == 200, response.text
    [water] = response.json()["domains"]
    [district] = water["districts"]
    assert (district["code"], district["name_zh"], district["name_en"]) == (
        "yangpu",
        "杨浦区",
        "Yangpu District",
    )
    city = water["city"]
    assert (city["code"], city["name_zh"]) == ("shanghai", "上海市")
    assert {k: v for k, v in city.items() if k not in ("code", "name_zh", "name_en")} == {
        k: v for k, v in district.items() if k not in ("code", "name_zh", "name_en")
    }
    # -0001 online by its status topic; -0002 and -0003 by reporting within three minutes (their
    # type reports every minute); -0004, silent for an hour, offline; the rest never reported.
    assert (district["sensors"], district["online"], district["offline"]) == (14, 3, 1)
    assert district["firing"] == {"blue": 0, "yellow": 0, "orange": 1, "red": 0}
    pressure = next(m for m in district["metrics"] if m["metric"] == "pressure")
    assert (pressure["sensors"], pressure["reporting"]) == (4, 3)
    assert pressure["avg"] == pytest.approx(0.3)
    assert (pressure["min"], pressure["max"]) == (0.2, 0.4)
    yinhang = next(s for s in water["subdistricts"] if s["code"] == "yinhang")
    assert (yinhang["name_zh"], yinhang["district"]) == ("殷行街道", "yangpu")
    assert yinhang["firing"]["orange"] == 1
    assert (yinhang["online"], yinhang["offline"]) == (2, 0)
    local = next(m for m in yinhang["metrics"] if m["metric"] == "pressure")
    assert (local["reporting"], local["avg"]) == (2, pytest.approx(0.25))
    everything = (await gateway.get("/v1/vital-signs")).json()
    # Every domain with types, in wall order (the example inventory has environment sensors).
    assert [d["domain"] for d in everything["domains"]] == [
        "buildings",
        "water",
        "power",
        "parking",
        "environment",
    ]
    assert_error(await gateway.get("/v1/vital-signs", params={"domain": "air"}), 422, "domain")
