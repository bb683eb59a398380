"""The strict YAML loader: duplicate keys, aliases and deep nesting are refused with the line
and column, and every file the project reads with it still loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.yaml_loader import MAX_DEPTH, load_yaml_mapping, load_yaml_text

ROOT = Path(__file__).parents[2]
# What the loader reads: sensor types, the inventory, rule files, receivers, scenarios, settings.
# (The Kubernetes manifests and the compose file use anchors; kubectl and docker read those.)
READ_BY_THE_LOADER = [
    *sorted((ROOT / "schemas").rglob("*.yaml")),
    *sorted((ROOT / "alerts").rglob("*.yaml")),
    *sorted((ROOT / "simulators" / "scenarios").glob("*.yaml")),
    ROOT / "cityvitals.example.yaml",
    ROOT / "deploy" / "config" / "cityvitals.yaml",
]


def problem(text: str) -> str:
    document, problems = load_yaml_mapping(text, "posted", "a mapping")
    assert document is None
    [found] = problems
    return f"{found.key}: {found.message}"


def test_aliases_are_refused_where_they_are() -> None:
    inflated = "metrics:\n  m0: &m0 {unit: MPa}\n" + "".join(f"  m{i}: *m0\n" for i in range(1, 5))
    assert problem(inflated) == (
        "line 3, column 7: invalid YAML: alias *m0: aliases are not accepted; write the value out"
    )
    laughs = 'a: &a ["lol", "lol"]\nb: &b [*a, *a]\nc: [*b, *b]\n'
    assert "alias *a" in problem(laughs)


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_deeper_than_the_limit_is_refused(style: str) -> None:
    depth = 5_000  # a RecursionError in PyYAML's composer before the limit
    if style == "flow":
        text = "types: " + "[" * depth + "]" * depth
    else:
        text = "types:\n" + "".join("  " * i + "-\n" for i in range(1, depth))
    assert f"nested deeper than {MAX_DEPTH} levels" in problem(text)
    shallow = "types: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert load_yaml_text(shallow) is not None


def test_duplicate_keys_are_still_refused() -> None:
    assert "duplicate key 'pressure'" in problem("pressure: 1\npressure: 2\n")


@pytest.mark.parametrize("path", READ_BY_THE_LOADER, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_the_loader_reads_loads(path: Path) -> None:
    assert load_yaml_text(path.read_text(encoding="utf-8")) is not None
