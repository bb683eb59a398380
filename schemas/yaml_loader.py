"""A strict YAML loader: safe, and duplicate keys are an error instead of a silent overwrite.

PyYAML keeps the last of two equal keys, so a metric declared twice would quietly lose its first
definition; engineers must hear about that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schemas.errors import Problem


class DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str) -> Any:
    return yaml.load(text, Loader=_StrictLoader)


def load_yaml_file(path: Path) -> Any:
    return load_yaml_text(path.read_text(encoding="utf-8"))


def describe_yaml_error(error: yaml.YAMLError) -> tuple[str, str]:
    """(key-ish location, message) for a YAML error: line and column, since no key exists yet."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return where, f"{error.problem} ({error.context})" if error.context else str(error.problem)
    return "", str(error)


def load_yaml_mapping(
    text: str, source: str, expected: str
) -> tuple[dict[Any, Any] | None, list[Problem]]:
    """A YAML document that must be a mapping, or the problems that say why it is not.

    `expected` describes the mapping for the message, e.g. "name, domain, metrics, ...".
    """
    try:
        document = load_yaml_text(text)
    except yaml.YAMLError as error:
        where, message = describe_yaml_error(error)
        return None, [Problem(source, where, f"invalid YAML: {message}")]
    if not isinstance(document, dict):
        return None, [Problem(source, "", f"expected a mapping ({expected})")]
    return document, []
