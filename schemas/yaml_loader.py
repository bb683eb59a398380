"""A strict YAML loader: safe, and duplicate keys are an error instead of a silent overwrite.

PyYAML keeps the last of two equal keys, so a metric declared twice would quietly lose its first
definition; engineers must hear about that.

It also refuses what makes a small document large or deep, since it reads what admins post to
the gateway as well as the files in the repository (sensor types, rule files, scenarios,
receivers, settings). Aliases (`*name`) are refused: 269 KB of `mN: *m0` lines made a sensor
type of 20,000 metrics, and a few nested aliases make billions of nodes ("billion laughs"). No
file the loader reads uses them (anchors are in the Kubernetes manifests only, which kubectl
reads). Nesting deeper than MAX_DEPTH is refused before PyYAML's recursive composer exhausts
Python's stack (a 5,000-deep list was a RecursionError).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schemas.errors import Problem

# Far deeper than any document of ours (a sensor type is 6 levels deep), far from the stack.
MAX_DEPTH = 64


class DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class RefusedYAMLError(yaml.MarkedYAMLError):
    """An alias, or nesting past MAX_DEPTH."""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYAMLError(
                None,
                None,
                f"alias *{event.anchor}: aliases are not accepted; write the value out",
                mark,
            )
        if self._depth >= MAX_DEPTH:
            raise RefusedYAMLError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

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
