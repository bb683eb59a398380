"""Codes stored in the database (domains, grades) as the names and colours the walls show."""

from __future__ import annotations

from grafana_dashboards import panels, sql
from grafana_dashboards.i18n import Lang, domain_name, grade_name
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY


def domain_labels(registry: Registry, lang: Lang, column: str) -> str:
    """The domain's name from domains.yaml; its code for one stored but no longer declared."""
    whens = " ".join(
        f"WHEN {sql.quote(d.code)} THEN {sql.quote(domain_name(d, lang))}"
        for d in registry.domains.values()
    )
    return f"CASE {column} {whens} ELSE {column} END"


def domain_colours(registry: Registry, lang: Lang) -> dict[str, str]:
    """Each domain's series in its colour from domains.yaml (by the name `domain_labels` gives)."""
    return {domain_name(d, lang): d.colour for d in registry.domains.values()}


def grade_labels(lang: Lang, column: str) -> str:
    whens = " ".join(
        f"WHEN {sql.quote(g.value)} THEN {sql.quote(grade_name(g, lang))}"
        for g in GRADES_BY_SEVERITY
    )
    return f"CASE {column} {whens} END"


def grade_colours(lang: Lang) -> dict[str, str]:
    return {grade_name(g, lang): panels.GRADE_COLOURS[g] for g in GRADES_BY_SEVERITY}
