"""Writing rule files in tests and collecting the problems they raise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from alerts.errors import RuleError
from alerts.rules.files import load_rule_files
from alerts.rules.rule import Rule
from schemas.errors import Problem, SchemaError
from schemas.registry import Registry

PRESSURE_BELOW = "default:water_main_pressure:pressure:below"
# A rule without its condition: tests append one.
RULE = """
rules:
  - id: my_rule
    type: water_main_pressure
    metric: pressure
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(registry: Registry, directory: Path) -> list[Problem]:
    with pytest.raises(RuleError) as caught:
        load_rule_files(registry, directory)
    assert isinstance(caught.value, SchemaError)  # same CLI output as the registry
    return caught.value.problems


def ids(rules: list[Rule]) -> set[str]:
    return {rule.id for rule in rules}
