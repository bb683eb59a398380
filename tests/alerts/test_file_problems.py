"""Rule files and the receivers file report what is wrong the same way: file, dotted key and the
same words for the same fault, every problem at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alerts.errors import ReceiversError, RuleError
from alerts.notify.receivers import load_routing
from alerts.rules.files import load_rule_files
from schemas.errors import Problem
from schemas.registry import Registry

Load = Callable[[Registry, Path, bytes], list[Problem]]


def rule_file_problems(registry: Registry, tmp_path: Path, content: bytes) -> list[Problem]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "broken.yaml").write_bytes(content)
    with pytest.raises(RuleError) as caught:
        load_rule_files(registry, tmp_path / "rules")
    assert all(p.file == "rules/broken.yaml" for p in caught.value.problems)
    return caught.value.problems


def receivers_problems(registry: Registry, tmp_path: Path, content: bytes) -> list[Problem]:
    path = tmp_path / "receivers.yaml"
    path.write_bytes(content)
    with pytest.raises(ReceiversError) as caught:
        load_routing(path, {})
    assert all(p.file == str(path) for p in caught.value.problems)
    return caught.value.problems


LOADERS = pytest.mark.parametrize(
    "load", [rule_file_problems, receivers_problems], ids=["rule file", "receivers"]
)


@LOADERS
@pytest.mark.parametrize(
    ("content", "key", "start"),
    [
        (b"\xff\xfe not UTF-8", "", "cannot read the file: "),
        (b"a: [1,\n", "line 2, column 1", "invalid YAML: "),
        (b"- a list\n", "", "expected a mapping with '"),
    ],
    ids=["unreadable", "bad YAML", "not a mapping"],
)
def test_the_same_fault_reads_the_same_in_both(
    load: Load, registry: Registry, tmp_path: Path, content: bytes, key: str, start: str
) -> None:
    problems = load(registry, tmp_path, content)
    assert [(p.key, p.message.startswith(start)) for p in problems] == [(key, True)]


@pytest.mark.parametrize(
    ("load", "content", "key", "allowed", "hint"),
    [
        (
            rule_file_problems,
            b"rules:\n  - {id: r, type: drain_level, metric: water_level, above: {rde: 1}}\n",
            "rules[0].above.rde",
            "blue, yellow, orange, red, recovery, hysteresis",
            "alerts/rules/files.py",
        ),
        (
            receivers_problems,
            b"receivers:\n  - {name: a, kind: webhook, url: 'http://h', colour: red}\n",
            "receivers[0].colour",
            "name, kind, url, url_env, secret_env, timeout, max_alerts, send_resolved, msg_type",
            "alerts/notify/receivers.py",
        ),
    ],
    ids=["rule file", "receivers"],
)
def test_an_unknown_key_lists_the_keys_allowed_there_and_where_the_format_is(
    load: Load,
    registry: Registry,
    tmp_path: Path,
    content: bytes,
    key: str,
    allowed: str,
    hint: str,
) -> None:
    problems = load(registry, tmp_path, content)
    unknown = [p for p in problems if p.key == key]
    assert [p.message for p in unknown] == [
        f"unknown key (allowed here: {allowed}); the format is in {hint}"
    ]


@pytest.mark.parametrize(
    ("load", "content", "keys"),
    [
        (
            rule_file_problems,
            b"rules:\n  - {id: a, type: drain_level, metric: water_level, hold: soon}\n"
            b"  - {id: b, type: drain_level, metric: water_level, window: later}\n",
            {"rules[0].hold", "rules[1].window"},
        ),
        (
            receivers_problems,
            b"receivers:\n  - {name: a, kind: nope, url: 'http://h'}\n"
            b"  - {name: b, kind: webhook, url: 'http://h', timeout: later, secret_env: S}\n",
            {"receivers[0].kind", "receivers[1].timeout"},
        ),
    ],
    ids=["rule file", "receivers"],
)
def test_every_problem_at_once(
    load: Load, registry: Registry, tmp_path: Path, content: bytes, keys: set[str]
) -> None:
    problems = load(registry, tmp_path, content)
    assert {p.key for p in problems} == keys, problems
