"""A domain added by files alone (tests/greenery.py), on a real database: prepare stores the
domain and its type, a reading of it is stored, the gateway's vital signs list it, and the
gateway refuses domains nobody declared, naming the declared ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from cityvitals.startup import prepare
from tests.gateway.conftest import INVENTORY, assert_error, running_gateway, write_readings
from tests.greenery import greenery_folder
from tests.harness import ScratchDatabase

SENSOR = "gr-sm-0001"


def _settings(tmp_path: Path, url: str, mqtt_url: str) -> Settings:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        INVENTORY.read_text(encoding="utf-8")
        + f"  - {{id: {SENSOR}, type: soil_moisture, subdistrict: yinhang, "
        "lat: 31.3244, lon: 121.5358, name: 殷行公园 土壤墒情}\n",
        encoding="utf-8",
    )
    return load_settings(
        database_url=url,
        mqtt_url=mqtt_url,
        sensor_types_dir=greenery_folder(tmp_path),
        inventory_path=inventory,
        gateway={"vital_signs_ttl": 0.001},
    )


async def test_a_domain_added_by_files_runs_end_to_end(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    mqtt_broker: EmbeddedMosquitto,
    tmp_path: Path,
    now: datetime,
) -> None:
    settings = _settings(tmp_path, empty_database.url, mqtt_broker.url)
    await prepare(settings, now)

    stored = await conn.fetchrow("SELECT * FROM domains WHERE code = 'greenery'")
    assert (stored["name_zh"], stored["name_en"], stored["colour"], stored["position"]) == (
        "绿化",
        "Greenery",
        "#91cc75",
        5,
    )
    assert await conn.fetchval("SELECT domain FROM sensor_types WHERE name = 'soil_moisture'") == (
        "greenery"
    )

    async with running_gateway(settings, empty_database.url, now) as gateway:
        await write_readings(
            gateway, SENSOR, "soil_moisture", now - timedelta(minutes=2), 1, value=lambda i: 31.5
        )
        answer = await gateway.get("/v1/vital-signs")
        assert answer.status_code == 200, answer.text
        domains = [d["domain"] for d in answer.json()["domains"]]
        # Wall order from the file; environment is declared but has no types: no entry.
        assert domains == ["buildings", "water", "power", "parking", "environment", "greenery"]

        answer = await gateway.get("/v1/vital-signs", params={"domain": "greenery"})
        [greenery] = answer.json()["domains"]
        assert (greenery["name_zh"], greenery["colour"]) == ("绿化", "#91cc75")
        assert greenery["city"]["sensors"] == 1
        [moisture] = greenery["city"]["metrics"]
        assert (moisture["metric"], moisture["reporting"], moisture["avg"]) == (
            "soil_moisture",
            1,
            31.5,
        )

        answer = await gateway.get("/v1/sensors", params={"domain": "greenery"})
        assert [s["id"] for s in answer.json()["items"]] == [SENSOR]
        answer = await gateway.get("/v1/sensor-types", params={"domain": "greenery"})
        assert [t["name"] for t in answer.json()] == ["soil_moisture"]

        for path in ("/v1/vital-signs", "/v1/sensors", "/v1/alerts", "/v1/sensor-types"):
            refused = await gateway.get(path, params={"domain": "forestry"})
            body = assert_error(refused, 422, "domain")
            assert "unknown domain 'forestry'" in body["detail"], path
            assert "environment, greenery" in body["detail"], path

        posted = (tmp_path / "sensor_types" / "soil_moisture.yaml").read_text(encoding="utf-8")
        posted = posted.replace("name: soil_moisture", "name: tree_tilt").replace(
            "domain: greenery", "domain: forestry"
        )
        answer = await gateway.request(
            "POST",
            "/v1/sensor-types",
            "admin",
            content=posted.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        body = assert_error(answer, 422)
        assert "domain: unknown domain 'forestry'" in str(body), body
        assert "greenery" in str(body), body

        key = await gateway.post(
            "/v1/keys",
            role="admin",
            json={"name": "lvhua", "role": "ingest", "scope": {"domain": "greenery"}},
        )
        assert key.status_code == 201, key.text
