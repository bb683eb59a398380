"""README.zh-CN.md names only what exists: every `cityvitals …` command and its options, every
setting (as a key or as a CITYVITALS_* variable) and every file of the repository it points to.
The README links it from its first lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel

from cityvitals.cli import app
from cityvitals.settings import CONFIG_ENV, ENV_PREFIX, Settings

ROOT = Path(__file__).parents[1]
README_ZH = ROOT / "README.zh-CN.md"
# A command and what follows it on its line, up to the end of a code span.
COMMAND = re.compile(r"\bcityvitals((?: [a-z][a-z-]*)+)([^`\n]*)")
ENV_NAME = re.compile(rf"\b{ENV_PREFIX}[A-Z0-9_]+\b")
# The settings table's first column: `key` or `key`、`key`.
TABLE_KEY = re.compile(r"^\| `([a-z_.]+)`(?:、`([a-z_.]+)`)? \|", re.MULTILINE)
DOTTED_KEY = re.compile(r"`((?:storage|ingest|alerts|gateway)\.[a-z_]+)`")
REPO_PATH = re.compile(r"`((?:schemas|alerts|cityvitals|gateway)/[\w./-]*|[\w-]+\.example\.yaml)`")


def _text() -> str:
    return README_ZH.read_text(encoding="utf-8")


def _resolve(words: list[str]) -> Any:
    """The command `words` name (a subcommand's arguments may follow it); fails naming it.
    Groups are told by their `commands` (typer's click classes need not be click's)."""
    command: Any = typer.main.get_command(app)
    for index, word in enumerate(words):
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            return command  # the rest are arguments
        sub = subcommands.get(word)
        if sub is None:
            raise AssertionError(f"`cityvitals {' '.join(words[: index + 1])}` does not exist")
        command = sub
    return command


def _setting_exists(dotted: str) -> bool:
    model: type[BaseModel] = Settings
    *parents, last = dotted.split(".")
    for part in parents:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return last in model.model_fields


def test_the_readme_links_the_chinese_one_in_its_first_lines() -> None:
    first_lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:5]
    assert any("中文说明: [README.zh-CN.md](README.zh-CN.md)" in line for line in first_lines)


def test_every_command_and_option_named_exists() -> None:
    found = COMMAND.findall(_text())
    assert len(found) > 10  # the pattern still finds the commands
    for words, rest in found:
        command = _resolve(words.split())
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest):
            assert option in known, f"`cityvitals{words}` has no option {option}"


def test_every_setting_named_exists() -> None:
    text = _text()
    keys = {key for pair in TABLE_KEY.findall(text) for key in pair if key}
    keys |= set(DOTTED_KEY.findall(text))
    for name in set(ENV_NAME.findall(text)) - {CONFIG_ENV}:
        keys.add(name.removeprefix(ENV_PREFIX).lower().replace("__", "."))
    assert {"database_url", "storage.raw_retention_days", "gateway.port"} <= keys
    assert sorted(key for key in keys if not _setting_exists(key)) == []


def test_every_file_of_the_repository_named_exists() -> None:
    paths = set(REPO_PATH.findall(_text()))
    assert "schemas/sensor_types/" in paths
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
