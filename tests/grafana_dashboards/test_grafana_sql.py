"""The Python emulation of Grafana's SQL pipeline gives what Grafana's own tests expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.grafana_dashboards.grafana_sql import (
    MacroError,
    calculate_interval,
    expand,
    expand_macros,
    format_interval,
    go_float,
    interpolate_variables,
    rfc3339nano,
    several,
    single,
)

FROM = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
TO = FROM + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # cases from pkg/tsdb/grafana-postgresql-datasource/macros_test.go
        ("select $__time(time_column)", 'select time_column AS "time"'),
        (
            "WHERE $__timeFilter(time_column)",
            "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
        ),
        ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
        ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
        (
            "SELECT $__timeGroup(time_column,'5m'), value",
            'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value',
        ),
        (
            "SELECT $__timeGroup(time_column,'5m') as time, value",
            "SELECT floor(extract(epoch from time_column)/300)*300 as time, value",
        ),
        (
            "$__timeGroupAlias(time_column , '5m')",
            'floor(extract(epoch from time_column)/300)*300 AS "time"',
        ),
        ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
    ],
)
def test_macros_as_grafana_expands_them(sql: str, expected: str) -> None:
    assert expand_macros(sql, FROM, TO, timescaledb=False) == expected


@pytest.mark.parametrize(
    ("interval", "expected"),
    [("5m", "time_bucket('300.000s',c)"), ("12d", "time_bucket('1036800.000s',c)"),
     ("20ms", "time_bucket('0.020s',c)")],
)  # fmt: skip
def test_time_group_on_timescaledb(interval: str, expected: str) -> None:
    assert expand_macros(f"$__timeGroup(c , '{interval}')", FROM, TO, timescaledb=True) == expected


def test_unknown_macros_fail_like_in_grafana() -> None:
    with pytest.raises(MacroError, match="unknown macro"):
        expand_macros("SELECT $__nope(x)", FROM, TO, timescaledb=False)


def test_go_formats() -> None:
    assert [go_float(v) for v in (300.0, 86400.0, 2592000.0, 0.02)] == [
        "300",
        "86400",
        "2.592e+06",
        "0.02",
    ]
    assert (
        rfc3339nano(datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=UTC)) == "1960-02-01T07:00:00.5Z"
    )
    assert format_interval(timedelta(minutes=90)) == "1h"


def test_variables_as_the_sql_data_source_formats_them() -> None:
    variables = {
        "one": single("it's"),
        "multi_one": single("a", multi=True),
        "many": several(["a", "b'c"], ["A", "B"]),
    }
    sql = "$one ${one:sqlstring} $multi_one $many ${many:sqlstring} ${many:text} $__timeFrom()"
    assert interpolate_variables(sql, variables) == (
        "it''s 'it''s' 'a' 'a','b''c' 'a','b''c' A + B $__timeFrom()"
    )


def test_interval_is_rounded_with_the_data_source_minimum() -> None:
    assert calculate_interval(FROM, FROM + timedelta(hours=1)) == timedelta(minutes=1)
    assert calculate_interval(FROM, FROM + timedelta(days=30)) == timedelta(minutes=30)
    assert calculate_interval(FROM, FROM + timedelta(days=1), minimum="1h") == timedelta(hours=1)
    sql = expand(
        "$__timeGroupAlias(t, $__interval), $__interval_ms",
        FROM,
        FROM + timedelta(days=30),
        variables={},
        interval=timedelta(hours=1),
    )
    assert sql == 'floor(extract(epoch from t)/3600)*3600 AS "time", 3600000'
