"""Registry endpoints: list and read types, register or update one by posting YAML."""

from __future__ import annotations

import yaml

from schemas.registry import SENSOR_TYPES_DIR
from schemas.sensor_type import MAX_METRICS
from schemas.yaml_loader import MAX_DEPTH
from tests.gateway.conftest import Gateway, assert_error

SHIPPED = (SENSOR_TYPES_DIR / "water_main_pressure.yaml").read_text(encoding="utf-8")
NEW_TYPE = SHIPPED.replace("name: water_main_pressure", "name: water_hammer_probe")
YAML = {"Content-Type": "application/yaml"}


async def test_list_and_read(gateway: Gateway) -> None:
    listed = await gateway.get("/v1/sensor-types")
    assert listed.status_code == 200
    names = [t["name"] for t in listed.json()]
    assert len(names) == 17
    assert "water_main_pressure" in names
    water = await gateway.get("/v1/sensor-types", params={"domain": "water"})
    assert {t["domain"] for t in water.json()} == {"water"}
    one = await gateway.get("/v1/sensor-types/water_main_pressure")
    assert one.json()["origin"] == "file"
    assert one.json()["spec"]["metrics"]["pressure"]["unit"] == "MPa"
    as_yaml = await gateway.get("/v1/sensor-types/water_main_pressure", params={"format": "yaml"})
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text)["reporting_interval"] == "1m"
    assert_error(await gateway.get("/v1/sensor-types/nope"), 404, "name")
    assert_error(await gateway.get("/v1/sensor-types", params={"domain": "air"}), 422, "domain")


async def test_post_registers_then_updates_and_ingest_uses_it_at_once(gateway: Gateway) -> None:
    created = await gateway.post("/v1/sensor-types", role="admin", content=NEW_TYPE, headers=YAML)
    assert created.status_code == 201, created.text
    assert created.json() == {"name": "water_hammer_probe", "outcome": "created"}
    stored = (await gateway.get("/v1/sensor-types/water_hammer_probe")).json()
    assert stored["origin"] == "api"
    changed = NEW_TYPE.replace("reporting_interval: 60s", "reporting_interval: 30s")
    updated = await gateway.post("/v1/sensor-types", role="admin", content=changed, headers=YAML)
    assert updated.status_code == 200
    assert updated.json()["outcome"] == "updated"
    again = (await gateway.get("/v1/sensor-types/water_hammer_probe")).json()
    assert again["reporting_interval_s"] == 30.0
    # The gateway's own HTTP ingest knows the type now: register a sensor of it, post.
    sensor = {"type": "water_hammer_probe", "subdistrict": "yinhang"}
    assert (await gateway.put("/v1/sensors/yp-wh-0001", json=sensor)).status_code == 201
    ts = gateway.clock().isoformat()
    posted = await gateway.post(
        "/v1/ingest/water/yinhang/yp-wh-0001/telemetry",
        role="ingest",
        json={"ts": ts, "metrics": {"pressure": 0.3}},
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["stored"] == 1


async def test_invalid_yaml_names_every_problem(gateway: Gateway) -> None:
    bad = NEW_TYPE.replace("unit: MPa", "unit: Mpa").replace("domain: water", "domain: air")
    body = assert_error(
        await gateway.post("/v1/sensor-types", role="admin", content=bad, headers=YAML), 422
    )
    assert body["field"] == "domain"
    assert "unknown domain 'air'; the declared domains are buildings, water" in body["detail"]
    assert any("unit" in p["detail"] for p in body["problems"])
    unit = NEW_TYPE.replace("unit: MPa", "unit: Mpa")
    body = assert_error(
        await gateway.post("/v1/sensor-types", role="admin", content=unit, headers=YAML), 422
    )
    assert body["field"] == "metrics.pressure.unit"
    assert "did you mean 'MPa'?" in body["detail"]
    for junk in (b"", b"- a list\n", b"name: [unclosed", b"\xff\xfe"):
        assert_error(await gateway.post("/v1/sensor-types", role="admin", content=junk), 422)


async def test_types_owned_by_files_and_roles(gateway: Gateway) -> None:
    owned = await gateway.post("/v1/sensor-types", role="admin", content=SHIPPED, headers=YAML)
    body = assert_error(owned, 409, "name")
    assert "defined by a file" in body["detail"]
    assert_error(await gateway.post("/v1/sensor-types", role="operator", content=NEW_TYPE), 403)


async def test_a_type_over_the_metric_cap_is_refused_with_the_cap(gateway: Gateway) -> None:
    metric = "  m{i}: {{display_name: {{zh: 压力, en: P}}, unit: MPa, range: {{min: 0, max: 1}}, "
    metric += "precision: 3}}\n"
    head, _, tail = NEW_TYPE.partition("metrics:\n")
    rest = tail[tail.index("\nsimulator:") + 1 :]
    many = head + "metrics:\n" + "".join(metric.format(i=i) for i in range(MAX_METRICS + 1)) + rest
    body = assert_error(
        await gateway.post("/v1/sensor-types", role="admin", content=many, headers=YAML),
        422,
        "metrics",
    )
    assert body["detail"].endswith(
        f"metrics: at most {MAX_METRICS} metrics per sensor type, not 65"
    )


async def test_yaml_that_inflates_or_nests_deep_is_refused(gateway: Gateway) -> None:
    # 20,000 metrics from 269 KB: each line an alias of the first metric.
    inflated = NEW_TYPE.replace("  pressure:\n", "  pressure: &m0\n", 1)
    inflated = inflated.replace(
        "  battery:", "".join(f"  m{i}: *m0\n" for i in range(3)) + "  battery:"
    )
    body = assert_error(
        await gateway.post("/v1/sensor-types", role="admin", content=inflated, headers=YAML), 422
    )
    assert "alias *m0: aliases are not accepted" in body["detail"]
    assert body["field"].startswith("line ")
    deep = "name: deep\nmetrics: " + "[" * 5_000 + "]" * 5_000 + "\n"
    body = assert_error(
        await gateway.post("/v1/sensor-types", role="admin", content=deep, headers=YAML), 422
    )
    assert f"nested deeper than {MAX_DEPTH} levels" in body["detail"]
    assert (await gateway.get("/v1/sensor-types/water_hammer_probe")).status_code == 404
