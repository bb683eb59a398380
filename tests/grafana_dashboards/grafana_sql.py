"""What Grafana does to a PostgreSQL panel query before the database sees it, in Python.

Three stages, as in Grafana:

1. the browser interpolates template variables (`TemplateSrv.replace` with the SQL data
   source's `interpolateVariable`, public/app/features/plugins/sql/datasource/SqlDatasource.ts),
   including the scoped `$__interval` / `$__interval_ms`;
2. the backend's global substitutions (`sqleng.Interpolate`: `$__interval_ms`, `$__interval`,
   `$__unixEpochFrom()`, `$__unixEpochTo()`);
3. the PostgreSQL macro engine (pkg/tsdb/grafana-postgresql-datasource/macros.go), with or
   without the data source's TimescaleDB option.

The interval follows Grafana's `rangeutil.calculateInterval`: span / max data points, rounded
to a "nice" value, never below the panel's (or the SQL data source's default 1m) minimum.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

MS = timedelta(milliseconds=1)


class MacroError(ValueError):
    pass


@dataclass(frozen=True)
class Value:
    """A variable's current value: one or several (multi / All) values and their texts."""

    values: tuple[str, ...]
    texts: tuple[str, ...]
    multi: bool = False  # the variable allows several values or All
    is_list: bool = False  # the value is an array (multi selection or All)


def single(value: str, text: str | None = None, *, multi: bool = False) -> Value:
    return Value((value,), (text if text is not None else value,), multi=multi)


def several(values: list[str], texts: list[str] | None = None) -> Value:
    return Value(tuple(values), tuple(texts or values), multi=True, is_list=True)


# --- stage 1: template variables ----------------------------------------------------------

# TemplateSrv's variableRegex: $var, [[var:fmt]], ${var.field:fmt}
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _default_format(value: Value) -> str:
    """SqlDatasource.interpolateVariable."""
    if value.is_list:
        return ",".join(_quote_literal(v) for v in value.values)
    if value.multi:
        return _quote_literal(value.values[0])
    return value.values[0].replace("'", "''")


def _format(value: Value, fmt: str | None) -> str:
    if fmt is None:
        return _default_format(value)
    if fmt == "sqlstring":
        return ",".join(_quote_literal(v) for v in value.values)
    if fmt == "text":
        return " + ".join(value.texts)
    if fmt in ("raw", "csv"):
        return ",".join(value.values)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in value.values)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in value.values)
    if fmt == "pipe":
        return "|".join(value.values)
    raise MacroError(f"variable format {fmt!r} is not emulated here")


def interpolate_variables(sql: str, variables: Mapping[str, Value]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in variables:
            return match.group(0)  # not a variable (a macro such as $__timeFilter): left alone
        return _format(variables[name], fmt)

    return _VARIABLE.sub(replace, sql)


# --- intervals ----------------------------------------------------------------------------

_ROUND_MS = (
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
    (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
    (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
    (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
    (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
    (1814400000, 604800000), (3628800000, 2592000000),
)  # fmt: skip
_UNITS = {"ms": MS, "s": timedelta(seconds=1), "m": timedelta(minutes=1),
          "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
          "y": timedelta(days=365)}  # fmt: skip


def round_interval(interval: timedelta) -> timedelta:
    """rangeutil.roundInterval."""
    ms = interval / MS
    for limit, rounded in _ROUND_MS:
        if ms < limit:
            return rounded * MS
    return timedelta(days=365)


def parse_interval(text: str) -> timedelta:
    """gtime.ParseInterval for the forms dashboards use: 20ms, 30s, 5m, 1h, 1d, 1w, 1y."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip().strip("'"))
    if match is None:
        raise MacroError(f"error parsing interval {text}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def calculate_interval(
    start: datetime, end: datetime, max_data_points: int = 1000, minimum: str = "1m"
) -> timedelta:
    return max(round_interval((end - start) / max_data_points), parse_interval(minimum))


def format_interval(interval: timedelta) -> str:
    """gtime.FormatInterval."""
    for unit, size in (("y", timedelta(days=365)), ("d", timedelta(days=1)),
                       ("h", timedelta(hours=1)), ("m", timedelta(minutes=1)),
                       ("s", timedelta(seconds=1)), ("ms", MS)):  # fmt: skip
        if interval >= size:
            return f"{interval // size}{unit}"
    return "1ms"


# --- stage 2 and 3: the backend -----------------------------------------------------------


def rfc3339nano(moment: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: no fraction when zero, no trailing zeros otherwise."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += ("." + f"{moment.microsecond:06d}").rstrip("0")
    return text + "Z"


def go_float(value: float) -> str:
    """fmt's %v of a float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e+06
    (Go prints 2592000.0 as 2.592e+06)."""
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # position of the decimal point in `digits`
    x = point - 1
    minus = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{minus}{digits}{'0' * (point - len(digits))}"
    return f"{minus}{digits[:point]}.{digits[point:]}"


def global_substitutions(sql: str, start: datetime, end: datetime, interval: timedelta) -> str:
    """sqleng.Interpolate."""
    sql = sql.replace("$__interval_ms", str(int(interval / MS)))
    sql = sql.replace("$__interval", format_interval(interval))
    sql = sql.replace("$__unixEpochFrom()", str(int(start.timestamp())))
    return sql.replace("$__unixEpochTo()", str(int(end.timestamp())))


_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


def _time_group(args: list[str], timescaledb: bool) -> str:
    if len(args) < 2:
        raise MacroError("macro __timeGroup needs time column and interval and optional fill value")
    seconds = parse_interval(args[1]).total_seconds()
    if timescaledb:
        return f"time_bucket('{seconds:.3f}s',{args[0]})"
    return f"floor(extract(epoch from {args[0]})/{go_float(seconds)})*{go_float(seconds)}"


def _evaluate(name: str, args: list[str], start: datetime, end: datetime, tsdb: bool) -> str:
    column = args[0] if args and args[0] else None
    if name in ("__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter") and not column:
        raise MacroError(f"missing time column argument for macro {name}")
    if name == "__time":
        return f'{column} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {column}) as "time"'
    if name == "__timeFilter":
        return f"{column} BETWEEN '{rfc3339nano(start)}' AND '{rfc3339nano(end)}'"
    if name == "__timeFrom":
        return f"'{rfc3339nano(start)}'"
    if name == "__timeTo":
        return f"'{rfc3339nano(end)}'"
    if name == "__timeGroup":
        return _time_group(args, tsdb)
    if name == "__timeGroupAlias":
        return _time_group(args, tsdb) + ' AS "time"'
    if name == "__unixEpochFilter":
        lo, hi = int(start.timestamp()), int(end.timestamp())
        return f"{column} >= {lo} AND {column} <= {hi}"
    raise MacroError(f"unknown macro {name!r}")


def expand_macros(sql: str, start: datetime, end: datetime, *, timescaledb: bool) -> str:
    """postgresMacroEngine.Interpolate."""
    out, last = [], 0
    for match in _MACRO.finditer(sql):
        name = match.group(1)
        if name == "__timeGroup":
            # pre-5.3 compatibility: a ',' right after the macro means the alias was meant
            after = sql.find(match.group(0)) + len(match.group(0))
            if after < len(sql) and sql[after] == ",":
                name = "__timeGroupAlias"
        args = [a.strip(" ") for a in match.group(2).split(",")]
        out.append(sql[last : match.start()] + _evaluate(name, args, start, end, timescaledb))
        last = match.end()
    return "".join(out) + sql[last:]


def expand(
    sql: str,
    start: datetime,
    end: datetime,
    *,
    variables: Mapping[str, Value],
    interval: timedelta,
    timescaledb: bool = False,
) -> str:
    """All three stages: the SQL Grafana sends to PostgreSQL."""
    scoped = {
        **variables,
        "__interval": single(format_interval(interval)),
        "__interval_ms": single(str(int(interval / MS))),
    }
    sql = interpolate_variables(sql, scoped)
    sql = global_substitutions(sql, start, end, interval)
    return expand_macros(sql, start, end, timescaledb=timescaledb)
