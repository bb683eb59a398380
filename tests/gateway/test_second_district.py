"""A second district by configuration alone: settings with only the Hongkou example geography
and a small inventory there. Prepare a real database; readings arrive through real Mosquitto;
the alert engine fires an alert whose message names 虹口区 and the subdistrict; the gateway's
vital signs name Hongkou at city, district and subdistrict level; the walls' export names the
district; the simulator's fleet stands only in Hongkou's subdistricts, inside their polygons."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import shapely

from alerts.engine.core import EngineCore
from alerts.notify.receivers import parse_routing
from alerts.rules.files import RULES_DIR, load_rule_files
from cityvitals.configs import ingest_config
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from cityvitals.startup import prepare
from grafana_dashboards.generate import build_dashboards
from ingest.service import IngestService
from schemas.geography import GEOGRAPHY_DIR, Geography, load_geography
from schemas.registry import load_registry
from schemas.topics import telemetry_topic
from simulators.fleet import build_fleet
from storage.pool import create_pool
from tests.gateway.conftest import running_gateway
from tests.harness import ScratchDatabase
from tests.ingest.traffic import count_readings, publish, running
from tests.waiting import wait_until

HONGKOU = GEOGRAPHY_DIR / "examples" / "hongkou.geojson"
# Two pressure gauges in 提篮桥 and one in 北外滩, at points inside their polygons.
SENSORS = {"hk-wp-0001": "tilanqiao", "hk-wp-0002": "tilanqiao", "hk-wp-0003": "beiwaitan"}


def _settings(tmp_path: Path, url: str, mqtt_url: str, geography: Geography) -> Settings:
    rows = []
    for sensor, code in SENSORS.items():
        sub = geography.subdistricts[code]
        rows.append(
            f"  - {{id: {sensor}, type: water_main_pressure, lat: {sub.lat}, lon: {sub.lon}, "
            f"name: {sub.zh} 供水压力}}\n"
        )
    rules_dir = tmp_path / "rules"  # a district-wide vital sign of Hongkou's own
    rules_dir.mkdir()
    (rules_dir / "hongkou.yaml").write_text(
        "rules:\n"
        "  - {id: hk_pressure_min, type: water_main_pressure, metric: pressure,\n"
        "     subject: district, aggregate: min, below: {orange: 0.2}, hold: 1m}\n",
        encoding="utf-8",
    )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sensors:\n" + "".join(rows), encoding="utf-8")
    return load_settings(
        database_url=url,
        mqtt_url=mqtt_url,
        geography=[HONGKOU],
        inventory_path=inventory,
        gateway={"vital_signs_ttl": 0.001},
        ingest={"client_id": "test-ingest-hongkou", "metrics_port": 0, "max_backoff": 1.0},
        alerts={"rules_dir": rules_dir},
    )


async def test_a_second_district_runs_end_to_end_by_configuration(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    mqtt_broker: EmbeddedMosquitto,
    tmp_path: Path,
    now: datetime,
) -> None:
    geography = load_geography([HONGKOU])
    settings = _settings(tmp_path, empty_database.url, mqtt_broker.url, geography)
    prepared = await prepare(settings, now)
    placed = await conn.fetch(
        "SELECT s.external_id, d.code, x.code AS district FROM sensors s "
        "JOIN subdistricts d ON d.id = s.subdistrict_id JOIN districts x ON x.id = d.district_id "
        "ORDER BY 1"
    )
    # Placed by point-in-polygon (the inventory names no subdistrict).
    assert [(r["external_id"], r["code"], r["district"]) for r in placed] == [
        (sensor, code, "hongkou") for sensor, code in SENSORS.items()
    ]

    # Ingest: the tilanqiao gauges read low pressure for five minutes, beiwaitan's is normal.
    start = now - timedelta(minutes=5)
    messages = []
    for minute in range(6):
        ts = int((start + timedelta(minutes=minute)).timestamp() * 1000)
        for sensor, code in SENSORS.items():
            value = 0.14 if code == "tilanqiao" else 0.31
            body = {"ts": ts, "seq": minute, "metrics": {"pressure": value}}
            messages.append((telemetry_topic("water", code, sensor), orjson.dumps(body)))
    pool = await create_pool(empty_database.url, max_size=4)
    try:
        service = IngestService(ingest_config(settings), pool, prepared.backend)
        async with running(service):
            await publish(mqtt_broker.url, messages)

            async def all_stored() -> bool:
                return await count_readings(empty_database.url) == len(messages)

            await wait_until(all_stored)
    finally:
        await pool.close()

    # The alert engine, stepped against the database, texts from the Hongkou geography.
    registry = load_registry()
    routing = parse_routing(
        "receivers: [{name: duty, kind: webhook, url: 'http://127.0.0.1:9/h', "
        "secret_env: DUTY_SECRET}]\ndefault_receiver: duty\nallow_local_urls: true\n",
        "receivers.yaml",
        {"DUTY_SECRET": "s"},
        geography=geography,
    )
    # The shipped rule files are written for the default district's places: a deployment
    # elsewhere configures its own folder (alerts.rules_dir).
    rules = load_rule_files(registry, settings.alerts.rules_dir or RULES_DIR, geography)
    core = EngineCore(registry, rules, routing, geography=geography)
    payloads: list[str] = []
    await core.resume(conn, start)
    tick = start
    while tick <= now + timedelta(minutes=1):
        report = await core.tick(conn, tick)
        payloads += [json.dumps(n.payload, ensure_ascii=False) for n in report.notifications]
        tick += timedelta(seconds=30)
    firing = [p for p in payloads if "hk-wp-0001" in p]
    assert firing, payloads
    assert "提篮桥街道 hk-wp-0001" in firing[0]  # a sensor's alert names its subdistrict
    district_wide = [p for p in payloads if "hk_pressure_min" in p]
    assert district_wide, payloads
    assert '"summary_zh": "虹口区' in district_wide[0]  # the district's, its district
    assert '"district": "hongkou"' in district_wide[0]
    assert "杨浦" not in "".join(payloads)
    stored = await conn.fetch(
        "SELECT DISTINCT subdistrict FROM alerts WHERE subject_kind = 'sensor'"
    )
    assert {r["subdistrict"] for r in stored} == {"tilanqiao"}

    # Vital signs at three levels name Hongkou.
    async with running_gateway(settings, empty_database.url, now) as gateway:
        answer = await gateway.get("/v1/vital-signs", params={"domain": "water"})
        assert answer.status_code == 200, answer.text
        [water] = answer.json()["domains"]
        assert (water["city"]["code"], water["city"]["name_zh"]) == ("shanghai", "上海市")
        [district] = water["districts"]
        assert (district["code"], district["name_zh"], district["name_en"]) == (
            "hongkou",
            "虹口区",
            "Hongkou District",
        )
        assert district["sensors"] == len(SENSORS)
        places = {s["code"]: s for s in water["subdistricts"]}
        assert set(places) <= set(geography.subdistricts)
        assert (places["tilanqiao"]["name_zh"], places["tilanqiao"]["district"]) == (
            "提篮桥街道",
            "hongkou",
        )
        local = next(m for m in places["tilanqiao"]["metrics"] if m["metric"] == "pressure")
        assert local["avg"] == 0.14

    # The walls name the district.
    boards = build_dashboards(registry, geography)
    assert boards["zh/overview.json"]["title"] == "虹口区城市生命体征总览"
    assert boards["en/overview.json"]["title"] == "Hongkou District city vital signs"

    # The simulator's fleet stands in Hongkou's subdistricts only, inside their polygons.
    fleet = build_fleet(registry, geography, size=500, seed=2)
    assert {s.subdistrict for s in fleet} == set(geography.subdistricts)
    for simulated in fleet:
        area = geography.subdistricts[simulated.subdistrict].area
        assert shapely.intersects_xy(area, simulated.lon, simulated.lat), simulated
