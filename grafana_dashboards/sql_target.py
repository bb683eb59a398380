"""The query model of Grafana's PostgreSQL data source, for the foundation SDK.

The SDK ships query types for Prometheus, Loki and friends but none for the SQL data sources, so
this module adds one the same way the SDK's own variants are built: a model with `to_json` /
`from_json` (fields as in Grafana's `SQLQuery`: refId, datasource, rawSql, format, rawQuery,
editorMode) and a builder, registered with the SDK runtime so dashboards decode into it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE_UID = "cityvitals-pg"
DATASOURCE = DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class Format(StrEnum):
    TIME_SERIES = "time_series"
    TABLE = "table"


class SqlQuery(cogvariants.Dataquery):
    ref_id: str
    raw_sql: str
    format: Format
    datasource: DataSourceRef | None
    raw_query: bool
    editor_mode: str

    def __init__(
        self,
        ref_id: str = "A",
        raw_sql: str = "",
        format: Format = Format.TABLE,
        datasource: DataSourceRef | None = None,
        raw_query: bool = True,
        editor_mode: str = "code",
    ) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = format
        self.datasource = datasource
        self.raw_query = raw_query
        self.editor_mode = editor_mode

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "rawSql": self.raw_sql,
            "format": self.format,
            "rawQuery": self.raw_query,
            "editorMode": self.editor_mode,
        }
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        args: dict[str, Any] = {}
        for key, arg in (
            ("refId", "ref_id"),
            ("rawSql", "raw_sql"),
            ("rawQuery", "raw_query"),
            ("editorMode", "editor_mode"),
        ):
            if key in data:
                args[arg] = data[key]
        if "format" in data:
            args["format"] = Format(data["format"])
        if "datasource" in data:
            args["datasource"] = DataSourceRef.from_json(data["datasource"])
        return cls(**args)


class Sql(cogbuilder.Builder[cogvariants.Dataquery]):
    """`Sql(rawSql).table()` or `.time_series()`: one PostgreSQL query of a panel."""

    def __init__(self, raw_sql: str, ref_id: str = "A") -> None:
        self._internal = SqlQuery(ref_id=ref_id, raw_sql=raw_sql, datasource=DATASOURCE)

    def build(self) -> SqlQuery:
        return self._internal

    def time_series(self) -> Self:
        self._internal.format = Format.TIME_SERIES
        return self

    def table(self) -> Self:
        self._internal.format = Format.TABLE
        return self


def register() -> None:
    """Let the SDK decode PostgreSQL targets into `SqlQuery` (idempotent)."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=SqlQuery.from_json)
    )
