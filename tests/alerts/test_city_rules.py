"""City-wide vital signs (`subject: city`) on a city platform holding two districts: the shipped
Yangpu geography and the Hongkou example. A city rule folds the sensors of both districts into
one value and one alert named after the city (上海市), stored as a 'city' subject; district rules
still fire per district; the gateway counts the city alert at city level only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from alerts.engine.core import EngineCore
from alerts.notify.receivers import parse_routing
from alerts.rules.files import load_rule_files
from cityvitals.settings import Settings, load_settings
from cityvitals.startup import prepare
from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, load_geography
from schemas.registry import Registry
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.pool import create_pool
from storage.writer import ReadingWriter
from tests.gateway.conftest import running_gateway
from tests.harness import ScratchDatabase

HONGKOU = GEOGRAPHY_DIR / "examples" / "hongkou.geojson"
GEOGRAPHY = [DEFAULT_GEOGRAPHY, HONGKOU]
# Yangpu's gauges read low (0.18 MPa), Hongkou's normal (0.30): the city's average is 0.24.
PRESSURE = {"yinhang": 0.18, "wujiaochang": 0.18, "tilanqiao": 0.30, "beiwaitan": 0.30}
SENSORS = {f"city-wp-{n:04d}": code for n, code in enumerate(PRESSURE)}
RULES = """
rules:
  - {id: city_pressure_avg, type: water_main_pressure, metric: pressure, subject: city,
     aggregate: avg, below: {yellow: 0.26}, hold: 1m}
  - {id: district_pressure_min, type: water_main_pressure, metric: pressure, subject: district,
     aggregate: min, below: {orange: 0.2}, hold: 1m}
"""


def _settings(tmp_path: Path, url: str) -> Settings:
    geography = load_geography(GEOGRAPHY)
    rows = []
    for sensor, code in SENSORS.items():
        sub = geography.subdistricts[code]
        rows.append(
            f"  - {{id: {sensor}, type: water_main_pressure, subdistrict: {code}, "
            f"lat: {sub.lat}, lon: {sub.lon}}}\n"
        )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("sensors:\n" + "".join(rows), encoding="utf-8")
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "city.yaml").write_text(RULES, encoding="utf-8")
    return load_settings(
        database_url=url,
        mqtt_url="mqtt://127.0.0.1:9",
        geography=GEOGRAPHY,
        inventory_path=inventory,
        gateway={"vital_signs_ttl": 0.001},
        alerts={"rules_dir": rules_dir},
    )


async def test_a_city_rule_folds_every_district_into_one_alert_named_after_the_city(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    registry: Registry,
    tmp_path: Path,
    now: datetime,
) -> None:
    settings = _settings(tmp_path, empty_database.url)
    geography = load_geography(GEOGRAPHY)
    prepared = await prepare(settings, now)
    start = now - timedelta(minutes=5)
    catalog = await load_catalog(conn)
    metric = catalog.metric_ids[("water_main_pressure", "pressure")]
    rows = [
        (start + timedelta(minutes=minute), catalog.sensors[sensor].id, metric, PRESSURE[code])
        for minute in range(6)
        for sensor, code in SENSORS.items()
    ]
    pool = await create_pool(empty_database.url, max_size=2)
    try:
        await ReadingWriter(pool, Backend(prepared.backend)).write(rows)
    finally:
        await pool.close()

    assert settings.alerts.rules_dir is not None
    rules = load_rule_files(registry, settings.alerts.rules_dir, geography)
    routing = parse_routing(
        "receivers: [{name: duty, kind: webhook, url: 'http://127.0.0.1:9/h', "
        "secret_env: DUTY_SECRET}]\ndefault_receiver: duty\nallow_local_urls: true\n",
        "receivers.yaml",
        {"DUTY_SECRET": "s"},
        geography=geography,
    )
    core = EngineCore(registry, rules, routing, geography=geography)
    await core.resume(conn, start)
    payloads: list[Mapping[str, Any]] = []
    tick = start
    while tick <= now:
        report = await core.tick(conn, tick)
        payloads += [n.payload for n in report.notifications]
        tick += timedelta(seconds=30)

    place_alerts = await conn.fetch(
        "SELECT rule_id, subject_kind, subject_id, subdistrict, phase, grade, value FROM alerts "
        "WHERE subject_kind <> 'sensor' AND phase = 'firing' ORDER BY rule_id, subject_id"
    )
    assert [
        (r["rule_id"], r["subject_kind"], r["subject_id"], r["subdistrict"], r["grade"])
        for r in place_alerts
    ] == [
        ("city_pressure_avg", "city", "shanghai", None, "yellow"),
        ("district_pressure_min", "district", "yangpu", None, "orange"),
    ]
    assert abs(place_alerts[0]["value"] - 0.24) < 1e-9  # both districts' sensors, averaged

    texts = [json.dumps(p, ensure_ascii=False) for p in payloads]
    [city_text] = [t for t in texts if "city_pressure_avg" in t]
    assert '"summary_zh": "上海市' in city_text, city_text
    assert '"scope": "city"' in city_text
    assert '"district":' not in city_text  # a city alert belongs to no one district
    assert "MPa" in city_text
    [district_text] = [t for t in texts if "district_pressure_min" in t]
    assert '"summary_zh": "杨浦区' in district_text, district_text

    # The city alert counts at city level, not in either district.
    async with running_gateway(settings, empty_database.url, now) as gateway:
        answer = await gateway.get("/v1/vital-signs", params={"domain": "water"})
        assert answer.status_code == 200, answer.text
        [water] = answer.json()["domains"]
        districts = {d["code"]: d for d in water["districts"]}
        assert set(districts) == {"yangpu", "hongkou"}
        in_districts = sum(d["firing"]["yellow"] for d in districts.values())
        assert water["city"]["firing"]["yellow"] == in_districts + 1
        assert districts["yangpu"]["firing"]["orange"] >= 1  # the district rule, and sensors'
        assert districts["hongkou"]["firing"] == {"blue": 0, "yellow": 0, "orange": 0, "red": 0}
