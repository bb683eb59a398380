"""Alerts firing, counted by grade and by domain: tiles and a table that are calm at zero and
wear a grade's colour from one, each count a link to the alerts it counts (the overview and the
alert board show them)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, stat, table
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards import panels, sql, tables
from grafana_dashboards.board_links import board_link
from grafana_dashboards.i18n import Lang, grade_name, text
from grafana_dashboards.labels import domain_labels
from schemas.registry import Registry
from schemas.sensor_type import GRADES_BY_SEVERITY, Grade


def alerts_by_grade_sql(lang: Lang, where: str = "TRUE") -> str:
    columns = ",\n       ".join(
        f'count(*) FILTER (WHERE grade = {sql.quote(g.value)}) AS "{grade_name(g, lang)}"'
        for g in reversed(GRADES_BY_SEVERITY)
    )
    return f"SELECT {columns}\nFROM alerts a\nWHERE a.phase = 'firing' AND {where}"


def alerts_by_domain_sql(registry: Registry, lang: Lang) -> str:
    """Every domain with types, in wall order, with its firing alerts per grade (0 too)."""
    values = ", ".join(
        f"({sql.quote(d.code)}, {i})" for i, d in enumerate(registry.domains_in_use())
    )
    grades = ",\n       ".join(
        f'count(a.fingerprint) FILTER (WHERE a.grade = {sql.quote(g.value)}) AS "{g.value}"'
        for g in reversed(GRADES_BY_SEVERITY)
    )
    return f"""SELECT {domain_labels(registry, lang, "dom.code")} AS domain, dom.code AS code,
       {grades}
FROM (VALUES {values}) AS dom(code, ord)
LEFT JOIN alerts a ON a.domain = dom.code AND a.phase = 'firing'
GROUP BY dom.code, dom.ord
ORDER BY dom.ord"""


def alerts_by_grade_panel(
    lang: Lang,
    where: str = "TRUE",
    *,
    carry: tuple[str, ...] = (),
    width: int,
    height: int,
) -> stat.Panel:
    """Firing alerts per grade: a tile per grade, calm (no colour) at zero and in the grade's
    own colour from one; a click opens the alert board on that grade (with the variables in
    `carry`)."""
    overrides = [
        panels.field_override(
            grade_name(g, lang),
            {
                "thresholds": grade_count_steps(g).build(),
                "links": [_alert_board_link(g, lang, carry)],
            },
        )
        for g in GRADES_BY_SEVERITY
    ]
    return panels.big_number(
        text("active_by_grade", lang),
        alerts_by_grade_sql(lang, where),
        unit="short",
        thresholds=panels.fixed_steps((None, panels.CALM)),
        width=width,
        height=height,
    ).overrides(overrides)


def _alert_board_link(
    grade: Grade, lang: Lang, carry: tuple[str, ...] = ()
) -> models.DashboardLink:
    link = board_link(text("alerts", lang), "alerts", lang, {"grade": grade.value}, carry)
    return link.build()


def grade_count_steps(grade: Grade) -> dashboard.ThresholdsConfig:
    """A count of alerts of one grade: calm at zero, the grade's colour from one."""
    return panels.fixed_steps((None, panels.CALM), (1.0, panels.GRADE_COLOURS[grade]))


def alerts_by_domain_panel(
    registry: Registry, lang: Lang, *, width: int, height: int
) -> table.Panel:
    """Firing alerts per domain and grade: the grade cells coloured from one, the domain
    linking to its board, a grade cell to the alert board on that grade."""
    domain_link = board_link(text("domain_board", lang), "${__data.fields.code}", lang)
    overrides = [panels.field_override("domain", {"links": [domain_link.build()]})]
    overrides += [
        panels.field_override(
            g.value,  # the SQL's column, named by the grade's code
            {
                "displayName": grade_name(g, lang),
                "noValue": text("empty_cell", lang),
                "thresholds": grade_count_steps(g).build(),
                "custom.cellOptions": {"type": "color-background"},
                "links": [_alert_board_link(g, lang)],
            },
        )
        for g in GRADES_BY_SEVERITY
    ]
    panel = tables.rows_table(
        text("active_by_domain", lang),
        alerts_by_domain_sql(registry, lang),
        lang,
        shown=("domain",),
        hidden=("code",),
        no_value="no_alerts",
        width=width,
        height=height,
    ).thresholds(panels.fixed_steps((None, panels.CALM)))
    return tables.with_overrides(panel, overrides)
