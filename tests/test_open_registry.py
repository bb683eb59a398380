"""The open registry, shown end to end: a district engineer adds a domain and two sensor types by
files alone, and every part of the platform takes them up with no Python change.

The registry folder is the shipped one plus a `domains.yaml` entry for `streets` (街面设施) and
two type files written below as YAML: a streetlight controller whose lamp is an enumerated state
(with zh/en names and a default `state_in` rule on `fault`) and whose power is declared in W, and
a lamp-pole environment monitor that follows FIWARE's AirQualityObserved, declared in µg/m³ and
dB(A). On a real database (both backends), Mosquitto, the ingest service and the alert engine:

- a plain report with vendor field names and another unit (`lampState: "fault"`,
  `powerConsumption: {value, unit: kW}`) and a FIWARE keyValues entity (`pm25` with a `unitCode`,
  `LAeq`) are stored under the declared metrics, converted to the declared units, the state as
  its index;
- the default rules fire at their grades, and the signed webhooks a real receiver gets name the
  state (故障 / Fault) and quote the gauges in their declared units, never "count" or an index;
- the dashboards give `streets` its wall in both languages, and the simulator's fleet holds
  sensors of both types whose simulated reports validate against their types.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson
from typer.testing import CliRunner

from alerts.engine.core import EngineCore
from alerts.engine.outbox import Outbox
from alerts.notify.receivers import parse_routing
from alerts.rules.files import RULES_DIR, load_rule_files
from cityvitals.cli import app
from cityvitals.configs import ingest_config
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from cityvitals.startup import prepare
from grafana_dashboards.generate import build_dashboards
from ingest.service import IngestService
from schemas.domains import DOMAINS_FILE, SHIPPED_DOMAINS
from schemas.registry import SENSOR_TYPES_DIR, load_registry
from schemas.telemetry import Report, decode_payload
from schemas.topics import telemetry_topic
from schemas.type_validator import TypeValidator
from simulators.engine import Simulation
from simulators.fleet import build_fleet
from simulators.signals import SignalModel
from storage.backend import Backend
from storage.pool import create_pool
from tests.alerts.local_receiver import SECRET, running_receiver
from tests.harness import ScratchDatabase
from tests.ingest.traffic import INVENTORY, publish, running
from tests.waiting import wait_until

STREETS = """  - code: streets
    name: {zh: 街面设施, en: Street furniture}
    colour: "#fc8452"
"""

LAMP_CONTROLLER = """\
name: lamp_controller
domain: streets
display_name: {zh: 路灯单灯控制器, en: Streetlight controller}
description: Single-lamp controller on an LED streetlight (150 W rated), NB-IoT.
reporting_interval: 10m
metrics:
  lamp:
    display_name: {zh: 灯具状态, en: Lamp}
    unit: state
    kind: state
    states: [lit, dark, fault]
    state_names: {lit: {zh: 亮灯, en: Lit}, fault: {zh: 故障, en: Fault}}
    aliases: [lampState]
    range: {min: 0, max: 2}
    precision: 0
    thresholds:
      state_in: {labels: [fault], grade: orange, hold: 1m}
    simulator: {baseline: 0, event_rate_per_day: 0.01}
  power:
    display_name: {zh: 功率, en: Power}
    unit: W
    aliases: [powerConsumption]
    range: {min: 0, max: 2000}
    precision: 0
    thresholds:
      above: {yellow: 200, orange: 250, red: 300, hold: 1m}   # a 150 W lamp drawing more
    simulator: {baseline: 140, noise: 3, drift: 2}
simulator:
  per_subdistrict: 3
"""

# Smart lamp poles carry a dust and noise sensor that speaks FIWARE AirQualityObserved; its
# vendor puts the noise level in the same entity as LAeq.
POLE_MONITOR = """\
name: pole_monitor
domain: streets
data_model: AirQualityObserved
display_name: {zh: 灯杆环境监测仪, en: Lamp-pole environment monitor}
description: Particulate and sound-level sensor on a smart lamp pole (GB 3095-2012 grade II).
reporting_interval: 10m
metrics:
  pm2_5:
    display_name: {zh: 细颗粒物 PM2.5, en: PM2.5}
    unit: µg/m³
    aliases: [pm25]
    range: {min: 0, max: 1000}
    precision: 0
    thresholds:
      above: {yellow: 75, orange: 115, red: 150, hold: 1m}   # HJ 633-2012 IAQI 100/150/200
    simulator: {baseline: 35, noise: 4, drift: 5}
  la_eq:
    display_name: {zh: 等效声级, en: Equivalent sound level}
    unit: dB(A)
    aliases: [LAeq]
    range: {min: 20, max: 140}
    precision: 1
    simulator: {baseline: 58, daily_amplitude: 5, profile: commute, noise: 1.5}
simulator:
  per_subdistrict: 2
"""

LAMP, POLE = "yp-lc-0001", "yp-pm-0001"
INVENTORY_ROWS = f"""\
  - {{id: {LAMP}, type: lamp_controller, subdistrict: wujiaochang,
      lat: 31.3010, lon: 121.5150, name: 淞沪路 路灯}}
  - {{id: {POLE}, type: pole_monitor, subdistrict: wujiaochang,
      lat: 31.3012, lon: 121.5153, name: 淞沪路 智慧灯杆}}
"""
ROUTING = """\
receivers:
  - {name: streets-office, kind: webhook, url: "URL", secret_env: STREETS_SECRET}
routes:
  - {receiver: streets-office, domains: [streets]}
allow_local_urls: true
"""
# What each default rule fires at, given the readings below (230 W, fault, 160 µg/m³).
EXPECTED_GRADES = {
    "default:lamp_controller:lamp:state_in": "orange",
    "default:lamp_controller:power:above": "yellow",
    "default:pole_monitor:pm2_5:above": "red",
}


def registry_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sensor_types"
    shutil.copytree(SENSOR_TYPES_DIR, folder)
    domains = SHIPPED_DOMAINS.read_text(encoding="utf-8") + STREETS
    (folder / DOMAINS_FILE).write_text(domains, encoding="utf-8")
    (folder / "lamp_controller.yaml").write_text(LAMP_CONTROLLER, encoding="utf-8")
    (folder / "pole_monitor.yaml").write_text(POLE_MONITOR, encoding="utf-8")
    return folder


def open_settings(tmp_path: Path, database_url: str, mqtt_url: str) -> Settings:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY.read_text(encoding="utf-8") + INVENTORY_ROWS, encoding="utf-8")
    return load_settings(
        database_url=database_url,
        mqtt_url=mqtt_url,
        sensor_types_dir=registry_folder(tmp_path),
        inventory_path=inventory,
        ingest={"client_id": f"test-open-{uuid.uuid4().hex[:8]}", "metrics_port": 0},
    )


async def stored(pool: asyncpg.Pool) -> list[tuple[str, str, datetime, float]]:
    rows = await pool.fetch(
        "SELECT s.external_id, m.name, r.ts, r.value FROM readings r "
        "JOIN sensors s ON s.id = r.sensor_id JOIN metrics m ON m.id = r.metric_id "
        "WHERE s.external_id = ANY($1::text[]) ORDER BY 1, 2",
        [LAMP, POLE],
    )
    return [(r["external_id"], r["name"], r["ts"], r["value"]) for r in rows]


async def test_a_domain_and_two_types_added_by_files_run_end_to_end(
    empty_database: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, tmp_path: Path
) -> None:
    settings = open_settings(tmp_path, empty_database.url, mqtt_broker.url)
    await prepare(settings)
    registry = load_registry(settings.sensor_types_dir)
    observed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    plain = {  # vendor field names, the power in kW, the lamp by its label
        "ts": int(observed.timestamp() * 1000),
        "metrics": {"lampState": "fault", "powerConsumption": {"value": 0.23, "unit": "kW"}},
    }
    entity = {  # FIWARE keyValues: PM2.5 in mg/m³ by its UN/CEFACT code, noise in dB
        "id": f"urn:ngsi-ld:AirQualityObserved:{POLE}",
        "type": "AirQualityObserved",
        "dateObserved": observed.isoformat(),
        "location": {"type": "Point", "coordinates": [121.5153, 31.3012]},
        "airQualityLevel": "unhealthy",
        "pm25": {"value": 0.16, "unitCode": "GP"},
        "LAeq": {"value": 62.4, "unitCode": "2N"},
    }
    pool = await create_pool(empty_database.url, min_size=1, max_size=4)
    try:
        service = IngestService(ingest_config(settings), pool, Backend(empty_database.backend))
        async with running(service):
            await publish(
                settings.mqtt_url,
                [
                    (telemetry_topic("streets", "wujiaochang", LAMP), orjson.dumps(plain)),
                    (telemetry_topic("streets", "wujiaochang", POLE), orjson.dumps(entity)),
                ],
            )

            async def all_stored() -> bool:
                return len(await stored(pool)) >= 4

            await wait_until(all_stored)
        assert await stored(pool) == [
            (LAMP, "lamp", observed, 2.0),  # 'fault' is the third state
            (LAMP, "power", observed, 230.0),  # 0.23 kW in W
            (POLE, "la_eq", observed, 62.4),
            (POLE, "pm2_5", observed, 160.0),  # 0.16 mg/m³ in µg/m³
        ]
        assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0

        async with running_receiver() as receiver:
            routing = parse_routing(
                ROUTING.replace("URL", receiver.url()),
                "receivers.yaml",
                {"STREETS_SECRET": SECRET},
                domains=registry.domains,
            )
            core = EngineCore(registry, load_rule_files(registry, RULES_DIR), routing)
            fired: dict[str, str] = {}
            async with pool.acquire() as conn, httpx.AsyncClient(trust_env=False) as http:
                outbox = Outbox(pool, http)
                now = observed - timedelta(minutes=1)
                await core.resume(conn, now)
                while now <= observed + timedelta(minutes=3):  # the holds (1 m) are satisfied
                    report = await core.tick(conn, now)
                    for rule_id, transition in report.transitions:
                        if transition.kind == "firing" and transition.grade is not None:
                            fired[rule_id] = transition.grade
                    now += timedelta(seconds=30)
                await outbox.deliver_due(routing)
            states = await pool.fetch("SELECT state FROM notifications")
            seen = [orjson.loads(request.body) for request in receiver.seen]
    finally:
        await pool.close()

    assert {rule: fired.get(rule) for rule in EXPECTED_GRADES} == EXPECTED_GRADES
    assert states, "nothing was sent"
    assert {r["state"] for r in states} == {"delivered"}  # the receiver verified the signatures
    alerts = [alert for body in seen for alert in body["alerts"]]
    # Routed to the streets office by domain; nothing else reached it.
    assert {a["labels"]["alertname"]: a["labels"]["grade"] for a in alerts} == EXPECTED_GRADES
    annotations = {a["labels"]["alertname"]: a["annotations"] for a in alerts}
    lamp = annotations["default:lamp_controller:lamp:state_in"]
    assert (lamp["state_zh"], lamp["state_en"]) == ("故障", "Fault")
    assert "故障（橙色预警）" in lamp["summary_zh"]
    assert "lamp Fault (orange alert)" in lamp["summary_en"]
    assert not re.search(r"\d", lamp["summary"].replace(LAMP, ""))  # no index, no threshold
    power = annotations["default:lamp_controller:power:above"]
    assert "功率 230 W，高于阈值 200 W" in power["summary_zh"]
    assert "power 230 W, above threshold 200 W" in power["summary_en"]
    pm = annotations["default:pole_monitor:pm2_5:above"]
    assert "160 µg/m³，高于阈值 150 µg/m³" in pm["summary_zh"]
    assert "160 µg/m³, above threshold 150 µg/m³" in pm["summary_en"]
    assert (power["unit"], pm["unit"]) == ("W", "µg/m³")
    assert "count" not in orjson.dumps(seen).decode()


def test_the_new_domain_gets_its_wall_and_its_simulated_fleet(tmp_path: Path) -> None:
    folder = registry_folder(tmp_path)
    exported = CliRunner().invoke(
        app, ["grafana", "export", "--types", str(folder), "--output", str(tmp_path / "walls")]
    )
    assert exported.exit_code == 0, exported.output
    walls = {
        lang: json.loads((tmp_path / "walls" / lang / "streets.json").read_text(encoding="utf-8"))
        for lang in ("zh", "en")
    }
    assert (walls["zh"]["title"], walls["en"]["title"]) == ("街面设施", "Street furniture")
    for lang, names in (
        ("zh", ("灯具状态", "功率", "细颗粒物")),
        ("en", ("Lamp", "Power", "PM2.5")),
    ):
        titles = [panel["title"] for panel in walls[lang]["panels"]]
        assert all(any(name in title for title in titles) for name in names), (names, titles)
    registry = load_registry(folder)
    assert build_dashboards(registry)["zh/streets.json"] == walls["zh"]  # what the CLI wrote

    fleet = build_fleet(registry, seed=5)
    streets = [s for s in fleet if s.sensor_type.domain == "streets"]
    assert {s.type_name for s in streets} == {"lamp_controller", "pole_monitor"}
    assert len(streets) == (3 + 2) * 12  # per_subdistrict, in each of the 12 subdistricts
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai: the morning rush
    simulation = Simulation(streets, SignalModel(5), seed=5)
    validators = {
        name: TypeValidator(registry.types[name]) for name in ("lamp_controller", "pole_monitor")
    }
    checked = {name: 0 for name in validators}
    by_id = {s.id: s for s in streets}
    for message in simulation.run(start, start + timedelta(minutes=30)):
        if not message.topic.endswith("/telemetry"):
            continue
        sensor = by_id[message.topic.split("/")[4]]
        [(_, report)] = decode_payload(message.payload)
        assert isinstance(report, Report), report
        good, bad = validators[sensor.type_name].check(
            report,
            now=start + timedelta(hours=1),
            max_future=timedelta(0),
            max_age=timedelta(days=1),
        )
        assert bad == [], message
        assert {m for m, _ in good} == set(sensor.sensor_type.metrics), message
        checked[sensor.type_name] += 1
    # Every sensor reported at least once (10-minute interval, half an hour simulated).
    assert checked["lamp_controller"] >= 3 * 12, checked
    assert checked["pole_monitor"] >= 2 * 12, checked
