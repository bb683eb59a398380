"""Every text of a dashboard's JSON that a person at the wall reads, and what counts as the other
language in it.

Read: the board's title and links, the labels and option texts of the variables on show, each
panel's title and description, its column headers (`displayName`, `organize` renames), value
mapping texts, `noValue`, data link titles, and the names its SQL fixes for series and columns
(quoted aliases, `'text' AS metric`, CASE ... THEN 'text'). Not read: SQL names that the panel
renames or hides, codes its value mappings turn into words, units (Grafana's own ids, another
test), URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Symbols and abbreviations a Chinese wall writes in Latin letters too.
LATIN_ON_ZH = frozenset(
    {
        *("PM2.5", "PM10", "AQI", "CO2", "CO", "NO2", "SO2", "O3", "TVOC", "pH", "ID", "API"),
        *("kWh", "MWh", "kW", "MW", "kVA", "kvar", "kV", "dB", "dBA", "Hz", "lx", "ppm", "ppb"),
        *("mm", "cm", "km", "Pa", "kPa", "MPa", "NTU", "rpm", "min", "ms", "mA", "mg", "mV"),
        *("LAeq", "LAmax", "LAmin", "LCpeak"),  # acoustics' symbols (GB 3096)
        *("p90", "p95", "p99"),
    }
)
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$__\w+|\$\w+")
_SENSOR_ID = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+\b")  # yp-wp-0001
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z]")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# Names SQL gives that Grafana shows: "quoted" aliases, 'text' AS metric, THEN/ELSE 'text'.
_QUOTED_ALIAS = re.compile(r'\bAS\s+"([^"]+)"', re.IGNORECASE)
_LITERAL_NAME = re.compile(r"'((?:[^']|'')*)'\s+AS\s+metric\b", re.IGNORECASE)
_CASE_TEXT = re.compile(r"\b(?:THEN|ELSE)\s+'((?:[^']|'')*)'", re.IGNORECASE)


@dataclass(frozen=True)
class Text:
    board: str  # "zh/alerts"
    panel: str  # the panel's title; "" for the board's own texts
    path: str  # where in the JSON
    text: str


def english_words(text: str) -> list[str]:
    """Latin words in a Chinese text that are not symbols, abbreviations or sensor ids."""
    stripped = _SENSOR_ID.sub(" ", _VARIABLE.sub(" ", text))
    return [
        w for w in _LATIN.findall(stripped) if w not in LATIN_ON_ZH and (len(w) >= 2 or "_" in w)
    ]


def chinese(text: str) -> list[str]:
    return _CJK.findall(_VARIABLE.sub(" ", text))


def _mapping_texts(mappings: list[dict[str, Any]], path: str) -> Iterator[tuple[str, str]]:
    for i, mapping in enumerate(mappings):
        options = mapping.get("options", {})
        results = [options["result"]] if "result" in options else list(options.values())
        for result in results:
            if isinstance(result, dict) and result.get("text"):
                yield f"{path}.mappings[{i}]", result["text"]


def _config_texts(config: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for key in ("displayName", "noValue"):
        if config.get(key):
            yield f"{path}.{key}", config[key]
    yield from _mapping_texts(config.get("mappings", []), path)
    for link in config.get("links", []):
        yield f"{path}.links", link.get("title", "")


def _override_texts(override: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    column = f"{path}[{override['matcher'].get('options')}]"
    for prop in override.get("properties", []):
        where = f"{column}.{prop['id']}"
        if prop["id"] == "displayName":
            yield where, prop["value"]
        elif prop["id"] == "mappings":
            yield from _mapping_texts(prop["value"], column)
        elif prop["id"] == "links":
            for link in prop["value"]:
                yield where, link.get("title", "")


def _mapped_codes(panel: dict[str, Any]) -> set[str]:
    """Codes the panel's value mappings turn into words: in its SQL they are not read."""
    config = panel.get("fieldConfig", {})
    mappings = [
        *config.get("defaults", {}).get("mappings", []),
        *(
            m
            for o in config.get("overrides", [])
            for p in o.get("properties", [])
            if p["id"] == "mappings"
            for m in p["value"]
        ),
    ]
    return {code for m in mappings if m.get("type") == "value" for code in m["options"]}


def _sql_texts(sql: str, codes: set[str]) -> Iterator[tuple[str, str]]:
    for pattern in (_QUOTED_ALIAS, _LITERAL_NAME, _CASE_TEXT):
        for found in pattern.findall(sql):
            if found not in codes:
                yield "rawSql", found.replace("''", "'")


def panel_texts(panel: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield "title", panel.get("title", "")
    if panel.get("description"):
        yield "description", panel["description"]
    config = panel.get("fieldConfig", {})
    yield from _config_texts(config.get("defaults", {}), "defaults")
    for override in config.get("overrides", []):
        yield from _override_texts(override, "overrides")
    for transformation in panel.get("transformations", []):
        renames = transformation.get("options", {}).get("renameByName", {})
        for column, shown in renames.items():
            yield f"transformations.renameByName[{column}]", shown
    for target in panel.get("targets", []):
        # SQL names a person never reads: codes mapped to words, columns renamed or hidden
        unread = _mapped_codes(panel) | _renamed(panel)
        yield from _sql_texts(target.get("rawSql", ""), unread)


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows hold their panels


def board_texts(name: str, board: dict[str, Any]) -> Iterator[Text]:
    """`name`: "zh/alerts.json" or "zh/alerts"."""
    slug = name.removesuffix(".json")
    yield Text(slug, "", "title", board["title"])
    for link in board.get("links", []):
        yield Text(slug, "", "links", link.get("title", ""))
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("hide") == 2:  # hidden: nobody reads its label
            continue
        where = f"templating[{variable['name']}]"
        yield Text(slug, "", f"{where}.label", variable.get("label") or variable["name"])
        if variable.get("type") == "custom":
            for option in variable.get("options", []):
                yield Text(slug, "", f"{where}.options", str(option["text"]))
    for panel in _panels(board):
        for path, text in panel_texts(panel):
            yield Text(slug, panel.get("title", ""), path, text)


def _renamed(panel: dict[str, Any]) -> set[str]:
    """Columns the panel shows under another name (displayName) or hides."""
    columns = [
        o["matcher"]["options"]
        for o in panel.get("fieldConfig", {}).get("overrides", [])
        if o["matcher"].get("id") == "byName"
    ]
    return set(columns) - set(unnamed_columns(panel, columns))


def unnamed_columns(panel: dict[str, Any], columns: list[str]) -> list[str]:
    """The SQL columns a table or a map tooltip shows under their SQL name: neither renamed
    (a displayName override, an organize rename) nor hidden (custom.hidden, hidden from the
    tooltip, excluded by organize)."""
    named: set[str] = set()
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        if override["matcher"].get("id") != "byName":
            continue
        for prop in override.get("properties", []):
            hides = prop["id"] == "custom.hidden" and prop["value"] is True
            hides |= prop["id"] == "custom.hideFrom" and bool(prop["value"].get("tooltip"))
            if prop["id"] == "displayName" or hides:
                named.add(override["matcher"]["options"])
    for transformation in panel.get("transformations", []):
        options = transformation.get("options", {})
        named |= set(options.get("renameByName", {}))
        named |= {c for c, excluded in options.get("excludeByName", {}).items() if excluded}
    return [c for c in columns if c not in named]
