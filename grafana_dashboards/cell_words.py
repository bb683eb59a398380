"""What a table's columns read as on a wall: headers and stored codes in the wall's language.

Headers are `displayName` overrides matched by the column's SQL name, not SQL aliases nor an
`organize` rename. Grafana's `byName` matcher compares a field's display name as it stands before
the overrides apply, and a rename transformation runs before them: renamed columns would no
longer match the overrides that hide `fingerprint` or hang the console link on `sensor`. Data
links read `${__data.fields.X}` through `getFieldDisplayValuesProxy` (@grafana/data), whose
`matchFieldByName` tries the field's own `name` first, then its display name: the SQL names stay
what the links read whatever the header says.

Codes become words with value mappings, in the ops console's words (a test holds them equal to
gateway/console/static/i18n), each with a colour. The four grade colours
(`panels.GRADE_COLOURS`) mean grades and nothing else: a firing phase, an open ops state or an
offline sensor needs attention in purple, settled states are green, waiting ones the text colour.
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.errors import GrafanaError
from grafana_dashboards.i18n import Lang, text
from grafana_dashboards.labels import grade_colours

__all__ = [
    "ATTENTION",
    "CLOSED_WHILE_FIRING",
    "HEADERS",
    "OPS_SHOWN",
    "OPS_STATES",
    "PHASES",
    "cell_style",
    "grade_mappings",
    "header",
    "online_mappings",
    "ops_mappings",
    "ops_shown",
    "phase_mappings",
]

ATTENTION = "purple"  # not a grade colour: needs someone, whatever the grade
SETTLED = "green"  # the walls' calm colour (panels.GREEN), as for "no alert"
WAITING = "text"  # Grafana's text colour: neither calm nor alarming

# The codes the alert store holds (alerts.model.Phase and OpsState, the CHECKs of migration
# 0005); grafana_dashboards may not import alerts (import-linter), so a test compares them.
PHASES: dict[str, str] = {
    "inactive": WAITING,
    "pending": WAITING,
    "firing": ATTENTION,
    "resolved": SETTLED,
}
OPS_STATES: dict[str, str] = {
    "open": ATTENTION,
    "acknowledged": WAITING,
    "assigned": WAITING,
    "closed": SETTLED,
}
# Not stored: closed by ops while the condition still holds (alerts.model.closed_while_firing),
# which the console's duty list marks "已关闭（仍在告警）"; `ops_shown` derives it.
CLOSED_WHILE_FIRING = "closed_while_firing"
OPS_SHOWN: dict[str, str] = {**OPS_STATES, CLOSED_WHILE_FIRING: ATTENTION}

# SQL column name -> i18n key of its header, for every column a wall's table shows.
HEADERS: dict[str, str] = {
    "domain": "domain",
    "grade": "col_grade",
    "rule_id": "col_rule",
    "subject": "col_subject",
    "subdistrict": "subdistrict",
    "value": "col_value",
    "phase": "col_phase",
    "ops": "col_ops",
    "assignee": "col_assignee",
    "firing_since": "col_firing_since",
    "acknowledged_at": "col_acknowledged_at",
    "resolved_at": "col_resolved_at",
    "closed_at": "col_closed_at",
    "sensor": "col_sensor",
    "name": "col_name",
    "online": "col_status",
    "status_changed_at": "col_status_changed",
    "last_report": "col_last_seen",
}


def header(column: str, lang: Lang) -> list[models.DynamicConfigValue]:
    """The column's header, and a dash for its empty cells: Grafana writes a field's `noValue`
    into null cells too, so without it the panel's "无预警" would fill every blank assignee."""
    key = HEADERS.get(column)
    if key is None:
        raise GrafanaError(
            f"table column {column!r} has no header: add it to cell_words.HEADERS "
            "(and its words to i18n) or hide it"
        )
    return [
        models.DynamicConfigValue(id_val="displayName", value=text(key, lang)),
        models.DynamicConfigValue(id_val="noValue", value=text("empty_cell", lang)),
    ]


def _value_map(words: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Code -> (word, colour), as Grafana's JSON (an override's value is plain JSON)."""
    options = {
        code: models.ValueMappingResult(text=word, color=colour, index=i)
        for i, (code, (word, colour)) in enumerate(words.items())
    }
    return models.ValueMap(options=options).to_json()


def phase_mappings(lang: Lang) -> list[dict[str, Any]]:
    return [_value_map({p: (text(f"phase_{p}", lang), c) for p, c in PHASES.items()})]


def ops_shown(alias: str) -> str:
    """SQL: the ops state a table shows for the alerts row `alias` (its `ops`, or
    closed_while_firing, like the console)."""
    return (
        f"CASE WHEN {alias}.ops = 'closed' AND {alias}.phase IN ('pending', 'firing') "
        f"THEN '{CLOSED_WHILE_FIRING}' ELSE {alias}.ops END"
    )


def ops_mappings(lang: Lang) -> list[dict[str, Any]]:
    return [_value_map({o: (text(f"ops_{o}", lang), c) for o, c in OPS_SHOWN.items()})]


def online_mappings(lang: Lang) -> list[dict[str, Any]]:
    """Booleans as Grafana's table sees them (String(value): "true"/"false"); NULL when the
    sensor has never reported a state."""
    unknown = models.SpecialValueMap(
        options=models.DashboardSpecialValueMapOptions(
            match=models.SpecialValueMatch.NULL,
            result=models.ValueMappingResult(text=text("status_unknown", lang), color=WAITING),
        )
    )
    words = {
        "true": (text("online_state", lang), SETTLED),
        "false": (text("offline_state", lang), ATTENTION),
    }
    return [_value_map(words), unknown.to_json()]


def grade_mappings(lang: Lang) -> list[dict[str, Any]]:
    """The grade column holds the grade's name (labels.grade_labels): name -> its colour, the
    same four as the alert texts, the console and the walls' grade tiles."""
    return [_value_map({name: (name, colour) for name, colour in grade_colours(lang).items()})]


def _cells(kind: str) -> models.DynamicConfigValue:
    # "basic": a solid grade colour; Grafana's default for a coloured background is a gradient
    options = {"type": kind, "mode": "basic"} if kind == "color-background" else {"type": kind}
    return models.DynamicConfigValue(id_val="custom.cellOptions", value=options)


def cell_style(column: str, lang: Lang) -> list[models.DynamicConfigValue]:
    """Mappings and cell colouring for the columns that hold codes; nothing for the others."""
    if column == "grade":
        mappings, cells = grade_mappings(lang), _cells("color-background")
    elif column == "phase":
        mappings, cells = phase_mappings(lang), _cells("color-text")
    elif column == "ops":
        mappings, cells = ops_mappings(lang), _cells("color-text")
    elif column == "online":
        mappings, cells = online_mappings(lang), _cells("color-text")
    else:
        return []
    return [models.DynamicConfigValue(id_val="mappings", value=mappings), cells]
