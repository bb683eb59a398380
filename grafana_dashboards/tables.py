"""Table and state-timeline panels: rows a person reads (alerts, sensors, status).

Every column a table shows gets a header in the wall's language and its codes as words
(`cell_words`); columns kept only for a link are hidden. A panel with no rows says so in words
(`noValue`) instead of Grafana's bare "No data".
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import statetimeline, table
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.cell_words import cell_style, header
from grafana_dashboards.console_links import hidden_column
from grafana_dashboards.i18n import Lang, text
from grafana_dashboards.sql_target import DATASOURCE, Sql

Override = cogbuilder.Builder[models.DashboardFieldConfigSourceOverrides]


def rows_table(
    title: str,
    sql: str,
    lang: Lang,
    *,
    shown: Sequence[str],
    hidden: Sequence[str] = (),
    no_value: str = "no_value",
    width: int = 24,
    height: int = 8,
) -> table.Panel:
    """`shown`: the SQL's columns a person reads, each with its header (a GrafanaError for one
    without); `hidden`: those only a link reads; `no_value`: the i18n key of the empty text."""
    # Alignment is Grafana's default, written out so that a table with field config (links,
    # hidden columns) has its `custom` part complete.
    panel = (
        table.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .span(width)
        .height(height)
        .cell_height(common_models.TableCellHeight.SM)
        .align(common_models.FieldTextAlignment.AUTO)
        .no_value(text(no_value, lang))
    )
    for column in shown:
        panel.override_by_name(column, [*header(column, lang), *cell_style(column, lang)])
    return with_overrides(panel, [hidden_column(column) for column in hidden])


def with_overrides(panel: table.Panel, overrides: Sequence[Override]) -> table.Panel:
    """Appends (the builder's `overrides` would replace the headers `rows_table` set)."""
    for override in overrides:
        built = override.build()
        panel.with_override(built.matcher, built.properties)
    return panel


def state_timeline(
    title: str,
    sql: str,
    mappings: list[models.ValueMapping],
    lang: Lang,
    *,
    no_value: str = "no_value",
    width: int = 24,
    height: int = 8,
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).time_series())
        .mappings(mappings)
        .no_value(text(no_value, lang))
        .span(width)
        .height(height)
        .show_value(common_models.VisibilityMode.NEVER)
        .merge_values(True)
        .fill_opacity(70)
        .line_width(0)
    )


def value_texts(texts: dict[int, tuple[str, str]]) -> list[models.ValueMapping]:
    """Value -> (text, colour) mappings, e.g. 0 -> offline in purple."""
    return [
        models.ValueMap(
            options={
                str(value): models.ValueMappingResult(text=label, color=colour, index=i)
                for i, (value, (label, colour)) in enumerate(texts.items())
            }
        )
    ]
