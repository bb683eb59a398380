"""SQL of the panels, written for Grafana's PostgreSQL data source and its macros.

Every time-ranged query reads `samples(...)`: a UNION ALL over the raw readings and the two
rollups, each branch guarded by a condition on the dashboard's span (`$__timeTo() -
$__timeFrom()`). After macro expansion the span is a constant, so PostgreSQL folds two of the
three guards to false and never touches those branches: short ranges read raw readings, a day
reads 1-minute rollups, a month reads 1-hour rollups - the same split `storage.queries` uses.
Every branch has the same columns, so the rest of a query does not care which one answered:

    t (bucket start or reading time), n (readings), total (sum), lo, hi, last

plus the sensor and its subdistrict (see `samples`).

Template variables use `${var:sqlstring}`, which Grafana renders as a quoted, comma-separated
list for single and multi values alike, so `IN (${subdistrict:sqlstring})` always works.
"""

from __future__ import annotations

from datetime import timedelta

from grafana_dashboards.i18n import Lang, name_column
from schemas.grades import GRADES_BY_SEVERITY
from schemas.sensor_type import SensorType
from storage.online import online_join
from storage.queries import HOURLY_SPAN_FROM, RAW_SPAN_LIMIT

SPAN = "($__timeTo()::timestamptz - $__timeFrom()::timestamptz)"
# A wall shows the online state at the end of its range: "now" for a live wall. The window is
# the boards' hidden variable (boards.online_window_variable): a constant in the query.
ONLINE_WINDOW = "online_window"
ONLINE_AT_RANGE_END = online_join(
    "$__timeTo()::timestamptz", f"interval '1 second' * ${{{ONLINE_WINDOW}}}"
)
SUBDISTRICTS = "${subdistrict:sqlstring}"
# A grade as a number for the walls' colour steps: 1 (blue) to 4 (red), 0 without one (green).
GRADE_RANK = (
    "CASE {col} "
    + " ".join(f"WHEN '{grade.value}' THEN {i}" for i, grade in enumerate(GRADES_BY_SEVERITY, 1))
    + " ELSE 0 END"
)


MIN_LOOKBACK = timedelta(minutes=15)


def lookback(sensor_type: SensorType) -> timedelta:
    """How far back a sensor's newest reading still counts as 'now': three report intervals."""
    return max(MIN_LOOKBACK, 3 * timedelta(seconds=sensor_type.reporting_interval))


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def interval(span: timedelta) -> str:
    return f"interval '{int(span.total_seconds())} seconds'"


def type_id(type_sql: str) -> str:
    """The id of a sensor type; `type_sql` is a quoted name or `${type:sqlstring}`."""
    return f"(SELECT id FROM sensor_types WHERE name = {type_sql})"


def metric_id(type_sql: str, metric_sql: str) -> str:
    return (
        "(SELECT m.id FROM metrics m JOIN sensor_types mt ON mt.id = m.sensor_type_id "
        f"WHERE mt.name = {type_sql} AND m.name = {metric_sql})"
    )


def sensors_of(type_sql: str, extra: str = "") -> str:
    """Ids of the type's sensors in the selected subdistricts (and matching `extra`)."""
    return (
        "(SELECT fs.id FROM sensors fs JOIN subdistricts fd ON fd.id = fs.subdistrict_id "
        f"WHERE fs.sensor_type_id = {type_id(type_sql)} AND fd.code IN ({SUBDISTRICTS}){extra})"
    )


def samples(type_sql: str, metric_sql: str, lang: Lang, sensor_extra: str = "") -> str:
    """One metric of a type's sensors over the dashboard range, from the cheapest source, with
    each row's sensor (`sensor_id`, `sensor`) and subdistrict (`subdistrict_id`, `subdistrict`).

    The readings are a LATERAL subquery per sensor, so PostgreSQL walks the selected sensors and
    reads each one's rows by index (sensor, metric, time) whatever it guesses about row counts;
    joining the sensors afterwards let a misestimate turn a 30-day view into a nested loop over
    millions of rows.
    """
    where = f"x.sensor_id = s.id AND x.metric_id = {metric_id(type_sql, metric_sql)}"
    raw, hourly = interval(RAW_SPAN_LIMIT), interval(HOURLY_SPAN_FROM)
    return f"""
    SELECT s.id AS sensor_id, s.external_id AS sensor, d.id AS subdistrict_id,
           d.{name_column(lang)} AS subdistrict, d.code, r.t, r.n, r.total, r.lo, r.hi, r.last
    FROM sensors s
    JOIN subdistricts d ON d.id = s.subdistrict_id
    CROSS JOIN LATERAL (
        SELECT x.ts AS t, 1 AS n, x.value AS total, x.value AS lo, x.value AS hi, x.value AS last
        FROM readings x
        WHERE $__timeFilter(x.ts) AND {where} AND {SPAN} <= {raw}
        UNION ALL
        SELECT x.bucket, x.samples, x.value_sum, x.value_min, x.value_max, x.value_last
        FROM readings_1m x
        WHERE $__timeFilter(x.bucket) AND {where} AND {SPAN} > {raw} AND {SPAN} < {hourly}
        UNION ALL
        SELECT x.bucket, x.samples, x.value_sum, x.value_min, x.value_max, x.value_last
        FROM readings_1h x
        WHERE $__timeFilter(x.bucket) AND {where} AND {SPAN} >= {hourly}
    ) r
    WHERE s.sensor_type_id = {type_id(type_sql)} AND d.code IN ({SUBDISTRICTS}){sensor_extra}"""


def gauge_series(type_sql: str, metric_sql: str, lang: Lang) -> str:
    """Average per subdistrict per interval (time series; one series per subdistrict)."""
    return f"""SELECT $__timeGroupAlias(r.t, $__interval), r.subdistrict AS metric,
       sum(r.total) / sum(r.n) AS value
FROM ({samples(type_sql, metric_sql, lang)}) r
GROUP BY 1, 2
ORDER BY 1, 2"""


def counter_series(type_sql: str, metric_sql: str, lang: Lang) -> str:
    """Increase per subdistrict per interval: the sum of each sensor's register steps (a reset,
    a negative step, counts as zero)."""
    return f"""SELECT $__timeGroupAlias(i.t, $__interval), i.subdistrict AS metric,
       sum(i.delta) AS value
FROM (
    SELECT r.t, r.subdistrict,
           greatest(r.last - lag(r.last) OVER (PARTITION BY r.sensor_id ORDER BY r.t), 0) AS delta
    FROM ({samples(type_sql, metric_sql, lang)}) r
) i
GROUP BY 1, 2
ORDER BY 1, 2"""


def state_series(type_sql: str, metric_sql: str, lang: Lang) -> str:
    """Sensors in state 1 at some moment of each interval, per subdistrict."""
    return f"""SELECT $__timeGroupAlias(r.t, $__interval), r.subdistrict AS metric,
       count(DISTINCT r.sensor_id) FILTER (WHERE r.hi >= 0.5) AS value
FROM ({samples(type_sql, metric_sql, lang)}) r
GROUP BY 1, 2
ORDER BY 1, 2"""


def newest_reading(type_sql: str, metric_sql: str, lookback: timedelta) -> str:
    """`l.value`: sensor `s`'s newest reading of the metric within `lookback` of the range's end
    (one index probe per sensor; a sensor silent for longer drops out of the join)."""
    return f"""CROSS JOIN LATERAL (
    SELECT r.value FROM readings r
    WHERE r.sensor_id = s.id AND r.metric_id = {metric_id(type_sql, metric_sql)}
      AND r.ts > $__timeTo()::timestamptz - {interval(lookback)} AND r.ts <= $__timeTo()
    ORDER BY r.ts DESC LIMIT 1
) l"""


def latest_by_subdistrict(
    type_sql: str, metric_sql: str, lookback: timedelta, aggregate: str, lang: Lang
) -> str:
    """`aggregate` (an SQL aggregate of `l.value`, e.g. `max(l.value)`) of each sensor's newest
    reading before the range's end, per selected subdistrict (table: subdistrict, code,
    value)."""
    return f"""SELECT d.{name_column(lang)} AS subdistrict, d.code, {aggregate} AS value
FROM subdistricts d
JOIN sensors s ON s.subdistrict_id = d.id AND s.sensor_type_id = {type_id(type_sql)}
{newest_reading(type_sql, metric_sql, lookback)}
WHERE d.code IN ({SUBDISTRICTS})
GROUP BY d.id, d.{name_column(lang)}
ORDER BY d.id"""


def increase_by_subdistrict(type_sql: str, metric_sql: str, lang: Lang) -> str:
    """Counter increase over the whole range per subdistrict (table: subdistrict, code,
    value)."""
    return f"""SELECT g.subdistrict, min(g.code) AS code, sum(g.increase) AS value
FROM (
    SELECT r.subdistrict_id, r.subdistrict, r.code, max(r.hi) - min(r.lo) AS increase
    FROM ({samples(type_sql, metric_sql, lang)}) r
    GROUP BY r.sensor_id, r.subdistrict_id, r.subdistrict, r.code
) g
GROUP BY g.subdistrict_id, g.subdistrict
ORDER BY g.subdistrict_id"""


def online_share(type_sql: str) -> str:
    """Percent of the type's sensors in the selected subdistricts that are online now (the
    effective state of storage/online.py; a sensor of unknown state is not online)."""
    return f"""SELECT round(100.0 * count(*) FILTER (WHERE o.online)
             / nullif(count(*), 0), 1) AS online
FROM sensors s
{ONLINE_AT_RANGE_END}
WHERE s.id IN {sensors_of(type_sql)}"""


def worst_grade_name(names: list[str]) -> str:
    """SQL aggregate over alerts `a`: the name (`names`, least severe first) of the worst grade."""
    whens = " ".join(f"WHEN {i} THEN {quote(n)}" for i, n in enumerate(names, 1))
    return f"CASE max({GRADE_RANK.format(col='a.grade')}) {whens} END"


def firing_alerts_of_type(type_sql: str, worst_name: str) -> str:
    """'0', or the number of alerts firing on the type's sensors and the worst grade's name
    (`worst_name`, from `worst_grade_name`): '3 · 红色'."""
    return f"""SELECT CASE WHEN count(*) = 0 THEN '0'
            ELSE count(*) || ' · ' || {worst_name} END AS firing
FROM alerts a
JOIN sensors s ON a.subject_kind = 'sensor' AND s.external_id = a.subject_id
WHERE a.phase = 'firing' AND s.id IN {sensors_of(type_sql)}"""


def state_label(value_sql: str, states: list[str]) -> str:
    """An enumerated state's stored index as its declared label (the walls show labels)."""
    cases = " ".join(f"WHEN {i} THEN {quote(label)}" for i, label in enumerate(states))
    return f"CASE round({value_sql})::int {cases} END"


def enum_state_series(type_sql: str, metric_sql: str, states: list[str], lang: Lang) -> str:
    """Sensors in each declared state (their last value of each sample) per interval: one
    series per state label."""
    label = state_label("r.last", states)
    return f"""SELECT $__timeGroupAlias(r.t, $__interval), {label} AS metric,
       count(DISTINCT r.sensor_id) AS value
FROM ({samples(type_sql, metric_sql, lang)}) r
GROUP BY 1, 2
ORDER BY 1, 2"""


def sensors_by_state(type_sql: str, metric_sql: str, states: list[str], lookback: timedelta) -> str:
    """Sensors of the selected subdistricts in each declared state now (table: state, value)."""
    return f"""SELECT {state_label("l.value", states)} AS state, count(*) AS value
FROM sensors s
JOIN subdistricts d ON d.id = s.subdistrict_id
{newest_reading(type_sql, metric_sql, lookback)}
WHERE s.sensor_type_id = {type_id(type_sql)} AND d.code IN ({SUBDISTRICTS})
GROUP BY round(l.value)
ORDER BY round(l.value)"""
