"""The sensor inventory: which sensors exist, of which type, where.

Read from YAML (``sensors: [{id, type, subdistrict, lat, lon, name}]``) or CSV with the same
columns. Every row is checked against the registry and placed in the geography
(schemas/placement.py: a row without a subdistrict is placed by its coordinates; coordinates
outside every district are refused); all problems are reported at once, naming the file and the
row (``sensors[3].type`` or ``row 5: type``). A row whose coordinates lie in another subdistrict
than it names is kept as named, and the contradiction is reported in `Inventory.warnings`.
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

from schemas.errors import InventoryError, Problem
from schemas.geography import Geography
from schemas.placement import place
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


class _Row(SensorRecord):
    """A row as written: the subdistrict may be left to the coordinates."""

    subdistrict: str | None = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Inventory:
    sensors: Mapping[str, SensorRecord]
    # Rows kept as named although their coordinates lie in another subdistrict.
    warnings: tuple[Problem, ...] = ()

    def __len__(self) -> int:
        return len(self.sensors)

    def __iter__(self) -> Iterator[SensorRecord]:
        return iter(self.sensors.values())

    def get(self, sensor_id: str) -> SensorRecord | None:
        return self.sensors.get(sensor_id)


def load_inventory(path: Path, registry: Registry, geography: Geography) -> Inventory:
    """Raises InventoryError listing every bad row."""
    text = path.read_text(encoding="utf-8")
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _yaml_rows(text, str(path))
    csv_style = path.suffix.lower() == ".csv"
    return validate_rows(rows, registry, geography, str(path), csv_style=csv_style)


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
    rows: list[dict[str, Any]],
    registry: Registry,
    geography: Geography,
    source: str,
    *,
    csv_style: bool = False,
) -> Inventory:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    sensors: dict[str, SensorRecord] = {}
    for index, raw in enumerate(rows):
        # CSV rows count from 2: line 1 is the header.
        prefix = f"row {index + 2}" if csv_style else f"sensors[{index}]"
        try:
            row = _Row.model_validate({k: v for k, v in raw.items() if v != ""})
        except ValidationError as error:
            problems.extend(
                Problem(source, f"{prefix}.{'.'.join(map(str, e['loc']))}", e["msg"])
                for e in error.errors()
            )
            continue
        if row.type not in registry:
            problems.append(Problem(source, f"{prefix}.type", f"unknown sensor type {row.type!r}"))
        placement = place(geography, row.id, row.subdistrict, row.lat, row.lon)
        if placement.warning is not None:
            warnings.append(Problem(source, f"{prefix}.subdistrict", placement.warning))
        if placement.subdistrict is None:
            assert placement.problem is not None
            problems.append(Problem(source, f"{prefix}.{placement.field}", placement.problem))
            continue
        if row.id in sensors:
            problems.append(Problem(source, f"{prefix}.id", f"duplicate sensor id {row.id!r}"))
        placed = {**row.model_dump(), "subdistrict": placement.subdistrict}
        sensors[row.id] = SensorRecord.model_construct(**placed)
    if problems:
        raise InventoryError(problems)
    return Inventory(sensors=sensors, warnings=tuple(warnings))
