"""Table and state-timeline panels: rows a person reads (alerts, sensors, status)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import statetimeline, table
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models

from grafana_dashboards.sql_target import DATASOURCE, Sql


def rows_table(title: str, sql: str, *, width: int = 24, height: int = 8) -> table.Panel:
    # Alignment is Grafana's default, written out so that a table with field config (links,
    # hidden columns) has its `custom` part complete.
    return (
        table.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).table())
        .span(width)
        .height(height)
        .cell_height(common_models.TableCellHeight.SM)
        .align(common_models.FieldTextAlignment.AUTO)
    )


def state_timeline(
    title: str, sql: str, mappings: list[models.ValueMapping], *, width: int = 24, height: int = 8
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(Sql(sql).time_series())
        .mappings(mappings)
        .span(width)
        .height(height)
        .show_value(common_models.VisibilityMode.NEVER)
        .merge_values(True)
        .fill_opacity(70)
        .line_width(0)
    )


def value_texts(texts: dict[int, tuple[str, str]]) -> list[models.ValueMapping]:
    """Value -> (text, colour) mappings, e.g. 0 -> offline in red."""
    return [
        models.ValueMap(
            options={
                str(value): models.ValueMappingResult(text=label, color=colour, index=i)
                for i, (value, (label, colour)) in enumerate(texts.items())
            }
        )
    ]
