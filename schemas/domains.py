"""The domains file: which domains the city has, their names, their order and colour on the walls.

    domains:                       # in this order on the walls
      - code: water                # snake_case; sensor types name it in `domain:`
        name: {zh: 供排水管网, en: Water network}
        colour: "#3ba272"          # #rrggbb: the domain's series on the walls

It sits in the registry folder beside the sensor types (`domains.yaml`). A folder without one uses
the file shipped in schemas/sensor_types/ (`domains_file` says which), so a deployment that only
adds types needs none. Loading reports every problem at once (file + key + message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.errors import Problem, RegistryError
from schemas.model_problems import validate_items, validate_model
from schemas.sensor_type import NAME_PATTERN, BilingualName
from schemas.yaml_loader import load_yaml_mapping

DOMAINS_FILE = "domains.yaml"
SHIPPED_DOMAINS = Path(__file__).parent / "sensor_types" / DOMAINS_FILE
_CODE = re.compile(NAME_PATTERN)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
HINT = "the format is in schemas/domains.py"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DomainEntry(_Strict):
    code: str = Field(description="Stable identifier, snake_case")
    name: BilingualName
    colour: str = Field(description="#rrggbb on the walls")

    @field_validator("code")
    @classmethod
    def _snake_case(cls, code: str) -> str:
        if _CODE.fullmatch(code) is None:
            raise ValueError(
                f"{code[:80]!r} is not a domain code: snake_case, 2-63 characters "
                "(a-z first, then a-z, 0-9, _)"
            )
        return code

    @field_validator("colour")
    @classmethod
    def _hex_colour(cls, colour: str) -> str:
        if _COLOUR.fullmatch(colour) is None:
            raise ValueError(f"{colour[:80]!r} is not a colour: write #rrggbb, e.g. #5470c6")
        return colour


class _DomainsFile(_Strict):
    # Entries are validated one by one (validate_items): one bad entry hides no other problem.
    domains: list[dict[str, object]] = Field(description="In their order on the walls")

    @field_validator("domains")
    @classmethod
    def _not_empty(cls, domains: list[dict[str, object]]) -> list[dict[str, object]]:
        if not domains:
            raise ValueError("no domains: declare at least one (code, name, colour)")
        return domains


@dataclass(frozen=True)
class DomainSpec:
    """One declared domain; `position` is its place in the file (0 first on the walls)."""

    code: str
    zh: str
    en: str
    colour: str
    position: int


Domains = Mapping[str, DomainSpec]  # code -> spec, in declared order


def domains_file(directory: Path) -> Path:
    """The domains file a registry folder uses: its own, else the shipped one."""
    own = directory / DOMAINS_FILE
    return own if own.is_file() else SHIPPED_DOMAINS


def load_domains(directory: Path) -> Domains:
    """The domains of a registry folder (see `domains_file`); raises RegistryError."""
    path = domains_file(directory)
    source = str(path) if path == SHIPPED_DOMAINS else _display_path(path, directory)
    domains, problems = parse_domains(path.read_text(encoding="utf-8"), source)
    if problems:
        raise RegistryError(problems)
    return domains


@cache
def shipped_domains() -> Domains:
    """The shipped domains: the default where no registry folder is at hand (a `Registry`
    built in code, a receivers file checked on its own)."""
    domains, problems = parse_domains(SHIPPED_DOMAINS.read_text(encoding="utf-8"), DOMAINS_FILE)
    if problems:
        raise RegistryError(problems)
    return domains


def parse_domains(text: str, source: str) -> tuple[Domains, list[Problem]]:
    """The domains in YAML `text`, and every problem found (empty when it is valid)."""
    document, problems = load_yaml_mapping(text, source, "with a 'domains' list")
    if document is None:
        return MappingProxyType({}), problems
    top = validate_model(
        _DomainsFile, document, source=source, problems=problems, format_hint=HINT, depth=2
    )
    entries = validate_items(
        document, "domains", _DomainEntry, source=source, problems=problems, format_hint=HINT
    )
    if top is None:
        return MappingProxyType({}), problems
    domains: dict[str, DomainSpec] = {}
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        if entry.code in domains:
            first = domains[entry.code].position
            message = f"duplicate domain {entry.code!r}: already declared as domains[{first}]"
            problems.append(Problem(source, f"domains[{index}].code", message))
            continue
        domains[entry.code] = DomainSpec(
            entry.code, entry.name.zh, entry.name.en, entry.colour, index
        )
    return MappingProxyType(domains), problems


def _display_path(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)
