"""A registry folder with a domain added by files alone: the shipped types, a domains.yaml that
adds `greenery` (绿化) and a soil-moisture type in it. Shared by the tests that show a new domain
gets its wall, storage, vital signs, alert routes and simulated fleet with no code change."""

from __future__ import annotations

import shutil
from pathlib import Path

from schemas.domains import DOMAINS_FILE, SHIPPED_DOMAINS
from schemas.registry import SENSOR_TYPES_DIR

GREENERY = """  - code: greenery
    name: {zh: 绿化, en: Greenery}
    colour: "#91cc75"
"""
# Declared, with no sensor type yet: it must stay off the walls and out of the vital signs.
TRANSPORT = """  - code: transport
    name: {zh: 交通, en: Transport}
    colour: "#ee6666"
"""

SOIL_MOISTURE = """name: soil_moisture
domain: greenery
display_name: {zh: 土壤墒情监测仪, en: Soil moisture probe}
description: Capacitive probe at root depth in a street-tree pit or a park lawn.
reporting_interval: 10m
metrics:
  soil_moisture:
    display_name: {zh: 土壤含水率, en: Volumetric water content}
    unit: "%"
    range: {min: 0, max: 100}
    precision: 1
    thresholds:
      below: {blue: 20, yellow: 15, orange: 10, hold: 30m}
    simulator: {baseline: 32, noise: 0.5, drift: 3}
simulator:
  per_subdistrict: 2
"""


def greenery_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sensor_types"
    shutil.copytree(SENSOR_TYPES_DIR, folder)
    domains = SHIPPED_DOMAINS.read_text(encoding="utf-8") + GREENERY + TRANSPORT
    (folder / DOMAINS_FILE).write_text(domains, encoding="utf-8")
    (folder / "soil_moisture.yaml").write_text(SOIL_MOISTURE, encoding="utf-8")
    return folder
