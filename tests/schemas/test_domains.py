"""The domains file: shipped defaults, its problems named by file and key, and sensor types that
name a domain the folder does not declare."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schemas.domains import DOMAINS_FILE, SHIPPED_DOMAINS, load_domains, parse_domains
from schemas.errors import RegistryError
from schemas.registry import SENSOR_TYPES_DIR, load_registry, parse_sensor_type

GOOD_ENTRY = 'name: {zh: 绿化, en: Greenery}\n    colour: "#91cc75"'


def _types_folder(tmp_path: Path, domains: str | None) -> Path:
    """The shipped types in a folder of their own, with `domains` as its domains.yaml."""
    folder = tmp_path / "sensor_types"
    shutil.copytree(SENSOR_TYPES_DIR, folder)
    (folder / DOMAINS_FILE).unlink()
    if domains is not None:
        (folder / DOMAINS_FILE).write_text(domains, encoding="utf-8")
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registry(folder)
    return [str(p) for p in caught.value.problems]


def test_shipped_domains_in_wall_order() -> None:
    domains = load_domains(SENSOR_TYPES_DIR)
    assert list(domains) == ["buildings", "water", "power", "parking", "environment"]
    assert [d.position for d in domains.values()] == [0, 1, 2, 3, 4]
    assert len({d.colour for d in domains.values()}) == 5  # distinct on the walls
    assert domains["environment"].zh.startswith("生态环境")
    registry = load_registry()
    assert registry.domains == domains
    assert [d.code for d in registry.domains_in_use()] == [
        "buildings",
        "water",
        "power",
        "parking",
        "environment",
    ]


def test_a_folder_without_a_domains_file_uses_the_shipped_one(tmp_path: Path) -> None:
    folder = _types_folder(tmp_path, None)
    registry = load_registry(folder)
    assert registry.domains == load_domains(SENSOR_TYPES_DIR)
    assert len(registry) == len(load_registry())


def test_the_domains_file_is_not_a_sensor_type(tmp_path: Path) -> None:
    domains = SHIPPED_DOMAINS.read_text(encoding="utf-8")
    registry = load_registry(_types_folder(tmp_path, domains))
    assert "domains" not in registry
    assert len(registry) == len(load_registry())


def test_a_type_naming_an_undeclared_domain_names_file_key_and_declared_domains(
    tmp_path: Path,
) -> None:
    folder = _types_folder(tmp_path, None)
    path = folder / "drain_level.yaml"
    path.write_text(path.read_text().replace("domain: water", "domain: drainage"))
    [problem] = _problems(folder)
    assert problem.startswith("sensor_types/drain_level.yaml: domain: unknown domain 'drainage'")
    assert "declared domains are buildings, water, power, parking, environment" in problem


def test_a_posted_type_is_checked_against_the_given_domains() -> None:
    text = (SENSOR_TYPES_DIR / "drain_level.yaml").read_text()
    assert parse_sensor_type(text, "request body").domain == "water"
    with pytest.raises(RegistryError, match="request body: domain: unknown domain 'water'"):
        parse_sensor_type(text, "request body", {})


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            f"domains:\n  - code: greenery\n    {GOOD_ENTRY}\n  - code: greenery\n    {GOOD_ENTRY}",
            "domains[1].code",
            "duplicate domain 'greenery': already declared as domains[0]",
        ),
        (
            f"domains:\n  - code: Green-ery\n    {GOOD_ENTRY}",
            "domains[0].code",
            "'Green-ery' is not a domain code: snake_case",
        ),
        (
            "domains:\n  - code: greenery\n    name: {zh: 绿化, en: Greenery}\n    colour: green",
            "domains[0].colour",
            "'green' is not a colour: write #rrggbb",
        ),
        (
            "domains:\n  - code: greenery\n    name: {zh: 绿化, en: Green}\n    colour: '#91cc7'",
            "domains[0].colour",
            "'#91cc7' is not a colour",
        ),
        ("domains: []", "domains", "no domains: declare at least one"),
        ("domain: []", "domain", "unknown key"),
        ("domains:\n  - greenery", "domains[0]", "valid dictionary"),
        (
            "domains:\n  - code: greenery\n    name: {zh: 绿化}\n    colour: '#91cc75'",
            "domains[0].name.en",
            "required key is missing",
        ),
    ],
)
def test_domain_file_problems_name_the_key(text: str, key: str, words: str) -> None:
    _, problems = parse_domains(text, "sensor_types/domains.yaml")
    assert any(
        p.file == "sensor_types/domains.yaml" and p.key == key and words in p.message
        for p in problems
    ), problems


def test_every_problem_of_a_bad_folder_at_once(tmp_path: Path) -> None:
    bad = (
        "domains:\n"
        "  - {code: parking, name: {zh: 停车, en: Parking}, colour: blue}\n"
        "  - {code: water, name: {zh: 水务, en: Water}, colour: '#3ba272'}\n"
        "  - {code: water, name: {zh: 水务, en: Water}, colour: '#3ba272'}\n"
    )
    folder = _types_folder(tmp_path, bad)
    problems = _problems(folder)
    assert "sensor_types/domains.yaml: domains[0].colour: 'blue' is not a colour" in problems[0]
    assert any("domains[2].code: duplicate domain 'water'" in p for p in problems)
    path = folder / "parking_lot_counter.yaml"
    path.write_text(path.read_text().replace("metrics:", "metricz:", 1))
    assert any(
        p.startswith("sensor_types/parking_lot_counter.yaml: metricz") for p in _problems(folder)
    )
