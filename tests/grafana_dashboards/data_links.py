"""What a panel's data links need from its SQL result, as Grafana resolves them: the field a
`${__data.fields.X}` link reads, and the column an override's links hang on, must both be
columns of the result (Grafana leaves a missing one unreplaced or never shows the link)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_DATA_FIELD = re.compile(r"\$\{__data\.fields\.([A-Za-z_][A-Za-z0-9_]*)")


def link_urls(panel: dict[str, Any]) -> Iterator[tuple[str | None, str]]:
    """(the column a link is on, None for every cell; its URL) for every data link."""
    config = panel.get("fieldConfig", {})
    for link in config.get("defaults", {}).get("links", []):
        yield None, link["url"]
    for override in config.get("overrides", []):
        matcher = override["matcher"]
        for prop in override["properties"]:
            if prop["id"] == "links":
                column = matcher["options"] if matcher["id"] == "byName" else None
                for link in prop["value"]:
                    yield column, link["url"]


def link_problems(panel: dict[str, Any], columns: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for column, url in link_urls(panel):
        if column is not None and column not in columns:
            problems.append(f"a link on column {column!r}, which the SQL does not return")
        for field in _DATA_FIELD.findall(url):
            if field not in columns:
                problems.append(f"a link reads field {field!r}, which the SQL does not return")
    return problems
