"""Errors raised while loading the vocabulary.

Hierarchy::

    SchemaError
    ├── RegistryError    one or more sensor-type files are invalid (carries every Problem)
    ├── InventoryError   the sensor inventory file is invalid (carries every Problem)
    └── GeographyError   one or more geography (GeoJSON) files are invalid (carries every Problem)

Every problem names the file and the dotted key inside it, so an engineer can jump straight to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: where (file, dotted key) and what."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class SchemaError(Exception):
    """Base of vocabulary errors; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RegistryError(SchemaError):
    """One or more sensor-type YAML files are invalid."""


class InventoryError(SchemaError):
    """The sensor inventory (YAML or CSV) is invalid."""


class GeographyError(SchemaError):
    """One or more geography files (GeoJSON districts and subdistricts) are invalid."""
