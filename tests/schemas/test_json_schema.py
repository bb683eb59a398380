"""The committed JSON Schema is the generated one, and editors' view agrees with the registry's."""

from __future__ import annotations

import jsonschema
import pytest

from schemas.domains import DOMAINS_FILE
from schemas.json_schema import SCHEMA_PATH, render_json_schema, sensor_type_json_schema
from schemas.registry import SENSOR_TYPES_DIR
from schemas.yaml_loader import load_yaml_file


def test_committed_schema_equals_generator_output() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_json_schema(), (
        "run `cityvitals sensors schema` and commit schemas/sensor-type.schema.json"
    )


TYPE_FILES = sorted(p for p in SENSOR_TYPES_DIR.glob("*.yaml") if p.name != DOMAINS_FILE)


@pytest.mark.parametrize("path", TYPE_FILES, ids=lambda p: p.name)
def test_every_shipped_file_validates_against_the_schema(path: object) -> None:
    document = load_yaml_file(path)  # type: ignore[arg-type]
    jsonschema.Draft202012Validator(sensor_type_json_schema()).validate(document)


def test_schema_rejects_unknown_keys_and_describes_units() -> None:
    """Units are open (any pint unit): the schema describes them instead of listing them, and
    the registry checks them (tests/schemas/test_units.py)."""
    document = load_yaml_file(SENSOR_TYPES_DIR / "water_main_pressure.yaml")
    validator = jsonschema.Draft202012Validator(sensor_type_json_schema())
    document["metrics"]["pressure"]["unit"] = "bar"
    document["colour"] = "blue"
    messages = sorted(e.message for e in validator.iter_errors(document))
    assert messages == ["Additional properties are not allowed ('colour' was unexpected)"]
    unit = sensor_type_json_schema()["$defs"]["Metric"]["properties"]["unit"]
    assert "enum" not in unit
    assert "UN/CEFACT" in unit["description"]
