"""What every wall shares: uid and tags per language, time settings, links, variables."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.i18n import Lang, grade_name, name_column, text
from grafana_dashboards.sql import ONLINE_WINDOW
from grafana_dashboards.sql_target import DATASOURCE
from schemas.sensor_type import GRADES_BY_SEVERITY
from storage.online import WINDOW_SECONDS_SQL

TAG = "cityvitals"
TIMEZONE = "Asia/Shanghai"
ALL = models.VariableOption(selected=True, text=["All"], value=["$__all"])


def uid(slug: str, lang: Lang) -> str:
    """`cityvitals-water` (Chinese, the default) and `cityvitals-water-en`."""
    return f"{TAG}-{slug}" if lang is Lang.ZH else f"{TAG}-{slug}-{lang.value}"


def other_lang(lang: Lang) -> Lang:
    return Lang.EN if lang is Lang.ZH else Lang.ZH


def board(slug: str, title: str, lang: Lang, *, refresh: str = "1m") -> dashboard.Dashboard:
    """A dashboard with the walls' common settings and links: a drop-down of the other boards
    of the same language, and the same board in the other language."""
    other = other_lang(lang)
    return (
        dashboard.Dashboard(title)
        .uid(uid(slug, lang))
        .tags([TAG, f"{TAG}-{lang.value}"])
        .timezone(TIMEZONE)
        .time("now-6h", "now")
        .refresh(refresh)
        .readonly()
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .link(
            dashboard.DashboardLink(text("boards", lang))
            .type(models.DashboardLinkType.DASHBOARDS)
            .tags([f"{TAG}-{lang.value}"])
            .as_dropdown(True)
            .keep_time(True)
            .include_vars(True)  # the chosen subdistricts follow to the next board
            .target_blank(False)
        )
        .link(
            dashboard.DashboardLink(text("language_link", lang))
            .type(models.DashboardLinkType.LINK)
            .url(f"/d/{uid(slug, other)}")
            .icon("external link")
            .keep_time(True)
            .include_vars(True)
            .target_blank(False)
        )
    )


def query_variable(
    name: str, label: str, sql: str, *, multi: bool, all: bool
) -> dashboard.QueryVariable:
    variable = (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(sql)
        .multi(multi)
        .include_all(all)
        .refresh(models.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(models.VariableSort.DISABLED)
    )
    if all:
        variable.current(ALL)
    return variable


def online_window_variable() -> dashboard.QueryVariable:
    """Hidden: the longest grace of any sensor type, in seconds, for the online state's SQL
    (`sql.ONLINE_AT_RANGE_END`). A variable, because the database needs the value as a
    constant to prune partitions once per query; refreshed with the time range, so a type
    added meanwhile is in by the next refresh."""
    return (
        dashboard.QueryVariable(ONLINE_WINDOW)
        .datasource(DATASOURCE)
        .query(f"SELECT w AS __value, w AS __text FROM ({WINDOW_SECONDS_SQL}) AS x(w)")
        .hide(models.VariableHide.HIDE_VARIABLE)
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


def subdistrict_variable(lang: Lang) -> dashboard.QueryVariable:
    sql = f"SELECT code AS __value, {name_column(lang)} AS __text FROM subdistricts ORDER BY id"
    return query_variable("subdistrict", text("subdistrict", lang), sql, multi=True, all=True)


def grade_variable(lang: Lang) -> dashboard.CustomVariable:
    pairs = [(grade_name(g, lang), g.value) for g in GRADES_BY_SEVERITY]
    return (
        dashboard.CustomVariable("grade")
        .label(text("grade", lang))
        .values(", ".join(f"{label} : {value}" for label, value in pairs))
        .options(
            [
                models.VariableOption(selected=False, text=label, value=value)
                for label, value in pairs
            ]
        )
        .multi(True)
        .include_all(True)
        .current(ALL)
    )


class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping when a panel does not
    fit, and numbers them; the SDK's own placement lets a panel run past the right edge."""

    WIDTH = 24

    def __init__(self, target: dashboard.Dashboard, lang: Lang) -> None:
        self.board = target
        self._lang = lang
        self._x = self._y = self._line = 0
        self._next_id = 1

    def row(self, title: str) -> None:
        self._newline()
        row = dashboard.Row(title).grid_pos(models.GridPos(h=1, w=self.WIDTH, x=0, y=self._y))
        self.board.with_row(row.id(self._take_id()))
        self._y += 1

    def add(self, panel: cogbuilder.Builder[models.Panel]) -> None:
        built = panel.build()
        size = built.grid_pos or models.GridPos()
        if self._x + size.w > self.WIDTH:
            self._newline()
        built.grid_pos = models.GridPos(h=size.h, w=size.w, x=self._x, y=self._y)
        built.id_val = self._take_id()
        self._say_when_empty(built)
        self.board.with_panel(panel)
        self._x += size.w
        self._line = max(self._line, size.h)

    def stack(self, panels: list[cogbuilder.Builder[models.Panel]]) -> None:
        """Panels one above the other in a column as wide as the widest (beside a tall panel
        such as the map, where the line would otherwise leave a hole)."""
        built = [p.build() for p in panels]
        width = max((b.grid_pos or models.GridPos()).w for b in built)
        if self._x + width > self.WIDTH:
            self._newline()
        y = self._y
        for panel, b in zip(panels, built, strict=True):
            size = b.grid_pos or models.GridPos()
            b.grid_pos = models.GridPos(h=size.h, w=size.w, x=self._x, y=y)
            b.id_val = self._take_id()
            self._say_when_empty(b)
            self.board.with_panel(panel)
            y += size.h
        self._x += width
        self._line = max(self._line, y - self._y)

    def _say_when_empty(self, panel: models.Panel) -> None:
        """Grafana's own text for a panel with nothing to show is an English "No data": every
        panel says it in the wall's language, unless it has its own words ("无预警")."""
        config = panel.field_config = panel.field_config or models.FieldConfigSource()
        defaults = config.defaults = config.defaults or models.FieldConfig()
        if defaults.no_value is None:
            defaults.no_value = text("no_value", self._lang)

    def _newline(self) -> None:
        if self._x:
            self._y += self._line
        self._x = self._line = 0

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1
