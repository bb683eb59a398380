"""The JSON Schema of a sensor-type file, generated from the models so it cannot drift.

Editors (VS Code YAML, JetBrains) use it for autocompletion via the
`# yaml-language-server: $schema=...` line at the top of each file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.sensor_type import SensorType

SCHEMA_PATH = Path(__file__).parent / "sensor-type.schema.json"
SCHEMA_ID = "https://cityvitals.dev/schemas/sensor-type.schema.json"


def sensor_type_json_schema() -> dict[str, Any]:
    schema = SensorType.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "CityVitals sensor type",
    }


def render_json_schema() -> str:
    return json.dumps(sensor_type_json_schema(), ensure_ascii=False, indent=2) + "\n"


def write_json_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(render_json_schema(), encoding="utf-8")
    return path
