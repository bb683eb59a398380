"""A domain added by files alone (tests/greenery.py) gets its wall, its alert routes and its
simulated fleet, with no code change; a declared domain without types (environment) gets none."""

from __future__ import annotations

import json
from pathlib import Path

from alerts.notify.receivers import parse_routing
from grafana_dashboards.generate import build_dashboards
from schemas.registry import load_registry
from simulators.fleet import build_fleet
from tests.greenery import greenery_folder

ROUTES = """
receivers:
  - {name: greenery-bureau, kind: webhook, url: https://lvhua.example.cn/hook, secret_env: S}
routes:
  - {receiver: greenery-bureau, domains: [greenery], min_grade: yellow}
"""


def test_the_registry_loads_the_new_domain_in_file_order(tmp_path: Path) -> None:
    registry = load_registry(greenery_folder(tmp_path))
    assert list(registry.domains)[-3:] == ["environment", "greenery", "transport"]
    greenery = registry.domains["greenery"]
    assert (greenery.zh, greenery.en, greenery.colour, greenery.position) == (
        "绿化",
        "Greenery",
        "#91cc75",
        5,
    )
    assert registry.types["soil_moisture"].domain == "greenery"
    assert [d.code for d in registry.domains_in_use()][-1] == "greenery"


def test_export_gives_the_new_domain_its_wall(tmp_path: Path) -> None:
    registry = load_registry(greenery_folder(tmp_path))
    boards = build_dashboards(registry)
    assert boards["zh/greenery.json"]["title"] == "绿化"
    assert boards["en/greenery.json"]["title"] == "Greenery"
    assert boards["zh/greenery.json"]["uid"] == "cityvitals-greenery"
    titles = [p["title"] for p in boards["zh/greenery.json"]["panels"]]
    assert any("土壤含水率" in t for t in titles)
    # The overview has its vital-signs row, its alert count and its colour on the ingest rate.
    overview = json.dumps(boards["zh/overview.json"], ensure_ascii=False)
    assert "生命体征 · 绿化" in overview
    assert "('environment', 4), ('greenery', 5)" in overview  # active alerts, wall order
    assert "#91cc75" in overview
    # Transport is declared but has no types: no wall, no row.
    assert not any("transport" in name for name in boards)
    assert "生命体征 · 交通" not in overview


def test_receivers_may_route_the_new_domain(tmp_path: Path) -> None:
    registry = load_registry(greenery_folder(tmp_path))
    routing = parse_routing(ROUTES, "receivers.yaml", {"S": "secret"}, domains=registry.domains)
    labels = {"domain": "greenery", "grade": "orange", "subdistrict": "yinhang"}
    assert [r.receiver for r in routing.routes_for(labels)] == ["greenery-bureau"]
    assert routing.routes_for({**labels, "domain": "water"}) == []


def test_the_simulated_fleet_includes_the_new_domain(tmp_path: Path) -> None:
    registry = load_registry(greenery_folder(tmp_path))
    fleet = build_fleet(registry)
    greenery = [s for s in fleet if s.sensor_type.domain == "greenery"]
    assert len(greenery) == 2 * 12  # per_subdistrict: 2, in each subdistrict
    assert {s.sensor_type.name for s in greenery} == {"soil_moisture"}
