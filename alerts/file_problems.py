"""How every YAML file the alert engine reads says what is wrong with it: rule files and the
receivers file alike, in the registry's idiom.

- Every finding is a `schemas.errors.Problem`: the file, the dotted key inside it
  (`rules[0].below.red`, `routes[2].escalate.to`; "line 4, column 2" before any key exists) and
  a message.
- Findings are collected, never raised one by one, so an engineer fixes a whole file (or folder)
  in one pass; the loader raises its SchemaError subclass (RuleError, ReceiversError) with all
  of them at the end.
- Pydantic's findings are worded by `schemas.model_problems` (unknown keys list the keys allowed
  there), YAML syntax errors by `schemas.yaml_loader`, checks of our own through `report`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from schemas.errors import Problem
from schemas.model_problems import validate_model
from schemas.yaml_loader import describe_yaml_error, load_yaml_text

__all__ = ["FileProblems", "Report", "did_you_mean"]

Report = Callable[[str, str], None]  # (dotted key, message): records a Problem, never raises
M = TypeVar("M", bound=BaseModel)


@dataclass
class FileProblems:
    """The problems of one file; `found` may be shared by the files of one folder."""

    source: str  # the file as shown to people, e.g. "rules/water.yaml"
    format_hint: str  # where the format is documented, e.g. "the format is in alerts/..."
    found: list[Problem] = field(default_factory=list)

    def report(self, key: str, message: str) -> None:
        self.found.append(Problem(self.source, key, message))

    def below(self, prefix: str) -> Report:
        """A Report whose keys are relative to `prefix` (an empty key means `prefix` itself)."""

        def report(key: str, message: str) -> None:
            self.report(f"{prefix}.{key}" if key and prefix else key or prefix, message)

        return report

    def read(self, path: Path) -> str | None:
        """The file's text, or None with the reason recorded."""
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.report("", f"cannot read the file: {error}")
            return None

    def mapping(self, text: str, expected: str, *, empty: bool = False) -> dict[Any, Any] | None:
        """The YAML document in `text` as a mapping, or None with the reason recorded.
        `expected` completes "expected a mapping ..."; `empty`: an empty file is an empty
        mapping rather than a problem."""
        try:
            document = load_yaml_text(text)
        except yaml.YAMLError as error:
            where, message = describe_yaml_error(error)
            self.report(where, f"invalid YAML: {message}")
            return None
        if document is None and empty:
            return {}
        if not isinstance(document, dict):
            self.report("", f"expected a mapping {expected}")
            return None
        return document

    def validate(self, model: type[M], data: object, prefix: str = "") -> M | None:
        """`data` as `model`, or None with every pydantic finding recorded below `prefix`."""
        return validate_model(
            model,
            data,
            source=self.source,
            problems=self.found,
            format_hint=self.format_hint,
            prefix=prefix,
        )


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'yinhang'?" for a near miss among `known`, else "": ends a message."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
