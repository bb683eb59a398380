"""The sensor inventory: which sensors exist, of which type, where.

Read from YAML (``sensors: [{id, type, subdistrict, lat, lon, name}]``) or CSV with the same
columns. Every row is checked against the registry and the subdistrict list; all problems are
reported at once, naming the file and the row (``sensors[3].type`` or ``row 5: type``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.districts import LAT_RANGE, SUBDISTRICTS_BY_CODE, within_yangpu
from schemas.errors import InventoryError, Problem
from schemas.registry import Registry
from schemas.yaml_loader import describe_yaml_error, load_yaml_text

SENSOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class UnknownSensorPolicy(StrEnum):
    """What to do with a message from a sensor not in the inventory, of a known type."""

    AUTO_REGISTER = "auto_register"  # add it, placed in the subdistrict its topic names
    DEAD_LETTER = "dead_letter"  # keep the message aside until someone registers the sensor


class SensorRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SENSOR_ID_PATTERN, description="The id the device uses in its topic")
    type: str
    subdistrict: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    name: str | None = None


@dataclass(frozen=True)
class Inventory:
    sensors: Mapping[str, SensorRecord]

    def __len__(self) -> int:
        return len(self.sensors)

    def __iter__(self) -> Iterator[SensorRecord]:
        return iter(self.sensors.values())

    def get(self, sensor_id: str) -> SensorRecord | None:
        return self.sensors.get(sensor_id)


def load_inventory(path: Path, registry: Registry) -> Inventory:
    """Raises InventoryError listing every bad row."""
    text = path.read_text(encoding="utf-8")
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _yaml_rows(text, str(path))
    return validate_rows(rows, registry, str(path), csv_style=path.suffix.lower() == ".csv")


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    return [{k.strip(): (v.strip() if v else v) for k, v in row.items() if k} for row in reader]


def _yaml_rows(text: str, source: str) -> list[dict[str, Any]]:
    try:
        document = load_yaml_text(text)
    except yaml.YAMLError as error:
        where, message = describe_yaml_error(error)
        raise InventoryError([Problem(source, where, f"invalid YAML: {message}")]) from error
    sensors = document.get("sensors") if isinstance(document, dict) else None
    if not isinstance(sensors, list):
        raise InventoryError([Problem(source, "sensors", "expected a list of sensors")])
    return [row if isinstance(row, dict) else {"_not_a_mapping": row} for row in sensors]


def validate_rows(
    rows: list[dict[str, Any]], registry: Registry, source: str, *, csv_style: bool = False
) -> Inventory:
    problems: list[Problem] = []
    sensors: dict[str, SensorRecord] = {}
    for index, row in enumerate(rows):
        # CSV rows count from 2: line 1 is the header.
        prefix = f"row {index + 2}" if csv_style else f"sensors[{index}]"
        try:
            record = SensorRecord.model_validate(row)
        except ValidationError as error:
            problems.extend(
                Problem(source, f"{prefix}.{'.'.join(map(str, e['loc']))}", e["msg"])
                for e in error.errors()
            )
            continue
        problems.extend(Problem(source, f"{prefix}.{k}", m) for k, m in _check(record, registry))
        if record.id in sensors:
            problems.append(Problem(source, f"{prefix}.id", f"duplicate sensor id {record.id!r}"))
        sensors[record.id] = record
    if problems:
        raise InventoryError(problems)
    return Inventory(sensors=sensors)


def _check(record: SensorRecord, registry: Registry) -> Iterator[tuple[str, str]]:
    if record.type not in registry:
        yield "type", f"unknown sensor type {record.type!r}"
    if record.subdistrict not in SUBDISTRICTS_BY_CODE:
        known = ", ".join(sorted(SUBDISTRICTS_BY_CODE))
        yield "subdistrict", f"unknown subdistrict {record.subdistrict!r} (one of: {known})"
    if not within_yangpu(record.lat, record.lon):
        key = "lat" if not LAT_RANGE[0] <= record.lat <= LAT_RANGE[1] else "lon"
        yield key, f"({record.lat}, {record.lon}) is outside Yangpu District"
