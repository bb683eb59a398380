"""Types registered by file contents alone, over HTTP: FIWARE entities and vendor field names
are stored converted under the right metrics; enumerated states are answered by label."""

from __future__ import annotations

from typing import Any

from tests.gateway.conftest import Gateway
from tests.open_types import AIR_STATION, FIWARE_AIR_STORED, SPACE_STATE, fiware_air

YAML = {"Content-Type": "application/yaml"}


async def register(gateway: Gateway, type_yaml: str, sensor: str, type_name: str) -> None:
    posted = await gateway.post("/v1/sensor-types", role="admin", content=type_yaml, headers=YAML)
    assert posted.status_code in (200, 201), posted.text
    await gateway.state.resolver.check_types(gateway.clock(), force=True)
    body = {"type": type_name, "subdistrict": "wujiaochang"}
    placed = await gateway.put(f"/v1/sensors/{sensor}", json=body)
    assert placed.status_code == 201, placed.text


async def stored(gateway: Gateway, sensor: str) -> dict[str, float]:
    async with gateway.state.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.name, r.value FROM readings r JOIN sensors s ON s.id = r.sensor_id "
            "JOIN metrics m ON m.id = r.metric_id WHERE s.external_id = $1",
            sensor,
        )
    return {r["name"]: r["value"] for r in rows}


async def test_a_fiware_entity_over_http_is_stored_converted(gateway: Gateway) -> None:
    await register(gateway, AIR_STATION, "yp-xa-0901", "air_station")
    url = "/v1/ingest/buildings/wujiaochang/yp-xa-0901/telemetry"
    entity = fiware_air(gateway.clock().isoformat(), no2=41)
    posted = await gateway.post(url, role="ingest", json=entity)
    assert posted.status_code == 200, posted.text
    answer: dict[str, Any] = posted.json()
    assert answer["stored"] == len(FIWARE_AIR_STORED)
    # The attribute the type lacks is not lost: it is named (and dead-lettered with the bytes).
    assert [(r["reason"], r["field"]) for r in answer["rejected"]] == [
        ("unknown_metric", "metrics.no2")
    ]
    assert await stored(gateway, "yp-xa-0901") == FIWARE_AIR_STORED

    wrong = fiware_air(gateway.clock().isoformat(), temperature={"value": 3, "unitCode": "KPA"})
    refused = await gateway.post(url, role="ingest", json=wrong)
    [problem] = refused.json()["rejected"]
    assert (problem["reason"], problem["field"]) == ("wrong_unit", "metrics.temperature")
    assert "'KPA' (a pressure) cannot be converted to the declared unit '°C'" in problem["detail"]


async def test_states_are_sent_and_answered_by_label(gateway: Gateway) -> None:
    await register(gateway, SPACE_STATE, "yp-xs-0901", "space_state")
    url = "/v1/ingest/parking/wujiaochang/yp-xs-0901/telemetry"
    body = {"ts": gateway.clock().isoformat(), "metrics": {"occupancy": "reserved"}}
    posted = await gateway.post(url, role="ingest", json=body)
    assert posted.json()["stored"] == 1, posted.text
    assert await stored(gateway, "yp-xs-0901") == {"occupancy": 2.0}

    shown = (await gateway.get("/v1/sensors/yp-xs-0901")).json()
    [latest] = shown["latest"]
    assert (latest["metric"], latest["value"], latest["state"]) == ("occupancy", 2.0, "reserved")
    listed = (await gateway.get("/v1/sensor-types", params={"domain": "parking"})).json()
    [space] = [t for t in listed if t["name"] == "space_state"]
    occupancy = next(m for m in space["metrics"] if m["name"] == "occupancy")
    assert occupancy["states"] == ["free", "occupied", "reserved", "unknown"]

    undeclared = {"ts": gateway.clock().isoformat(), "metrics": {"occupancy": "parked"}}
    refused = await gateway.post(url, role="ingest", json=undeclared)
    assert refused.status_code == 422
    assert "expected one of free (0), occupied (1), reserved (2), unknown (3)" in refused.text
