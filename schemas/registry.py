"""The sensor-type registry: every YAML file in a folder, validated together.

Loading reports every problem in every file at once (file + dotted key + message), so an engineer
fixes a folder in one pass instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from schemas.domains import DOMAINS_FILE, Domains, DomainSpec, load_domains, shipped_domains
from schemas.errors import Problem, RegistryError
from schemas.sensor_type import Metric, SensorType
from schemas.validation import check_sensor_type
from schemas.yaml_loader import load_yaml_mapping

SENSOR_TYPES_DIR = Path(__file__).parent / "sensor_types"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Registry:
    """Validated sensor types by name; built once at start-up and passed to whoever needs it."""

    types: Mapping[str, SensorType]
    sources: Mapping[str, str] = field(default_factory=dict)
    # Declared domains, in wall order (domains.yaml; built in code: the shipped ones).
    domains: Domains = field(default_factory=shipped_domains)

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def __iter__(self) -> Iterator[SensorType]:
        return iter(self.types.values())

    def __len__(self) -> int:
        return len(self.types)

    def get(self, name: str) -> SensorType | None:
        return self.types.get(name)

    def metric(self, type_name: str, metric_name: str) -> Metric | None:
        sensor_type = self.types.get(type_name)
        return None if sensor_type is None else sensor_type.metrics.get(metric_name)

    def by_domain(self, domain: str) -> list[SensorType]:
        return [t for t in self.types.values() if t.domain == domain]

    def domains_in_use(self) -> list[DomainSpec]:
        """The declared domains that have sensor types, in wall order: those get walls and
        vital signs (a domain declared ahead of its types shows nowhere yet)."""
        used = {t.domain for t in self.types.values()}
        return [d for d in self.domains.values() if d.code in used]


def parse_sensor_type(text: str, source: str, domains: Domains | None = None) -> SensorType:
    """One sensor type from YAML text; raises RegistryError naming `source` and each bad key.
    Its domain must be one of `domains` (default: the shipped ones)."""
    sensor_type, problems = _parse(text, source)
    if sensor_type is not None:
        declared = shipped_domains() if domains is None else domains
        problems = _domain_problems(sensor_type, source, declared) + problems  # in key order
    if sensor_type is None or problems:
        raise RegistryError(problems)
    return sensor_type


def load_registry(directory: Path = SENSOR_TYPES_DIR) -> Registry:
    """Every *.yaml / *.yml below `directory` but its domains.yaml (schemas/domains.py: the
    shipped one when the folder has none); raises RegistryError listing all problems."""
    if not directory.is_dir():
        raise RegistryError([Problem(str(directory), "", "not a directory of sensor-type files")])
    domains_path = directory / DOMAINS_FILE
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in YAML_SUFFIXES and p.is_file() and p != domains_path
    )
    if not files:
        raise RegistryError([Problem(str(directory), "", "no sensor-type files (*.yaml) found")])
    problems: list[Problem] = []
    try:
        domains = load_domains(directory)
    except RegistryError as error:  # reported with the types' problems, all in one pass
        problems.extend(error.problems)
        domains = None
    types: dict[str, SensorType] = {}
    sources: dict[str, str] = {}
    for path in files:
        source = _display_path(path, directory)
        sensor_type, found = _parse(path.read_text(encoding="utf-8"), source)
        if sensor_type is not None and domains is not None:
            problems.extend(_domain_problems(sensor_type, source, domains))  # in key order
        problems.extend(found)
        if sensor_type is None:
            continue
        if sensor_type.name in types:
            problems.append(
                Problem(
                    source,
                    "name",
                    f"duplicate sensor type {sensor_type.name!r}: already defined in "
                    f"{sources[sensor_type.name]}",
                )
            )
            continue
        types[sensor_type.name] = sensor_type
        sources[sensor_type.name] = source
    if problems or domains is None:
        raise RegistryError(problems)
    return Registry(types=types, sources=sources, domains=domains)


def _domain_problems(sensor_type: SensorType, source: str, domains: Domains) -> list[Problem]:
    if sensor_type.domain in domains:
        return []
    declared = ", ".join(domains)
    message = f"unknown domain {sensor_type.domain!r}; the declared domains are {declared}"
    return [Problem(source, "domain", f"{message} (add it to {DOMAINS_FILE} first)")]


def _parse(text: str, source: str) -> tuple[SensorType | None, list[Problem]]:
    document, problems = load_yaml_mapping(text, source, "name, domain, metrics, ...")
    if document is None:
        return None, problems
    try:
        sensor_type = SensorType.model_validate(document)
    except ValidationError as error:
        return None, [Problem(source, _dotted(e["loc"]), _message(e)) for e in error.errors()]
    problems = [Problem(source, key, message) for key, message in check_sensor_type(sensor_type)]
    return sensor_type, problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: object) -> str:
    details = dict(error)  # type: ignore[call-overload]
    if details.get("type") == "extra_forbidden":
        return "unknown key (check the spelling; see schemas/sensor-type.schema.json)"
    if details.get("type") == "missing":
        return "required key is missing"
    return str(details.get("msg", "invalid value"))


def _display_path(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory.parent))
    except ValueError:
        return str(path)
