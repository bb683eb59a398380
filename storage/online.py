"""A sensor's effective online state: the one definition the API, vital signs and walls share.

Devices with an MQTT birth and last will say `online`/`offline` on their status topic
(storage/status.py keeps the newest word on `sensors.online`); that word is the state. Many
devices only send telemetry; their state comes from their readings:

- online: a reading within its grace, OFFLINE_AFTER_INTERVALS of its type's reporting interval
  (the silence after which the alert engine's default "sensor offline" rule fires);
- offline: none that recent, but a reading within HISTORY (or its grace, if longer);
- unknown (NULL): no status and no such reading: never reported, as far as we look back.

Why HISTORY bounds "ever": a probe costs one descent of the readings' unique index per daily
partition (or chunk) its time range touches. Unbounded, a sensor that never reported would probe
every partition of the raw retention (90 days, plus a week created ahead); a week is 8, and stays
in chunks TimescaleDB has not compressed yet (`compress_after_days` defaults to 7). A reporting
sensor, the usual case, costs one probe: the second EXISTS runs only when the first finds nothing.

Both probes bound time by values fixed for the whole query: `now`, HISTORY and the window (the
longest grace of any type, `online_window`). PostgreSQL prunes the partitions and TimescaleDB
excludes the chunks once per query then, not again for every sensor as a bound that depends on
the sensor's type made them do: counting 100,000 sensors (90 days of partitions) took 0.9 s
instead of 1.2 s on PostgreSQL, 1.6 s instead of 3.8 s on TimescaleDB (EXPLAIN ANALYZE,
medians of 5). The type's own grace is a filter on the few readings inside the window.

Time is a parameter: callers pass SQL for "now" (`$1::timestamptz` in the service queries,
Grafana's `$__timeTo()` on the walls), so tests step time and a wall shows its range's end.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

# Equal to alerts.rules.defaults.DEFAULT_ABSENCE_INTERVALS (storage cannot import alerts; a test
# compares them): a telemetry-only sensor shows offline exactly when its default rule calls it
# silent.
OFFLINE_AFTER_INTERVALS = 3
HISTORY_DAYS = 7
HISTORY = timedelta(days=HISTORY_DAYS)

# The window in whole seconds (rounded up): for `online_window`, and the query of the walls'
# hidden variable that gives them the same value.
WINDOW_SECONDS_SQL = (
    f"SELECT ceil(coalesce(max(reporting_interval_s), 0) * {OFFLINE_AFTER_INTERVALS})::bigint"
    " FROM sensor_types"
)


async def online_window(conn: asyncpg.Connection) -> timedelta:
    """The longest grace of any sensor type: how far back `online_join` looks for "online"."""
    seconds: int = await conn.fetchval(WINDOW_SECONDS_SQL)
    return timedelta(seconds=seconds)


def _reported(sensor: str, now: str, since: str, within: str = "") -> str:
    """EXISTS: the sensor has a reading in (since, now] (any metric: the probe uses only the
    index's leading column, and a reporting sensor matches on its first entry, its first
    metric's newest reading), of which `within` (a filter) holds."""
    lines = [
        f"SELECT FROM readings r WHERE r.sensor_id = {sensor}.id",
        f"AND r.ts > {since} AND r.ts <= {now}",
        *([f"AND {within}"] if within else []),
    ]
    body = "".join(f"\n            {line}" for line in lines)
    return f"EXISTS ({body}\n        )"


def _effective_online(now: str, window: str, sensor: str, sensor_type: str) -> str:
    """A boolean SQL expression (NULL: unknown) over a `sensors` row and its type's row."""
    grace = f"make_interval(secs => {sensor_type}.reporting_interval_s * {OFFLINE_AFTER_INTERVALS})"
    history = f"greatest(interval '{HISTORY_DAYS} days', {window})"
    # `r.ts + grace > now`, not `r.ts > now - grace`: in that form the planner would take the
    # type's grace for a partition bound and prune again for every sensor.
    recent = _reported(sensor, now, since=f"{now} - {window}", within=f"r.ts + {grace} > {now}")
    return f"""CASE
        WHEN {sensor}.online IS NOT NULL THEN {sensor}.online
        WHEN {recent} THEN true
        WHEN {_reported(sensor, now, since=f"{now} - {history}")} THEN false
    END"""


def online_join(now: str, window: str, sensor: str = "s", alias: str = "o") -> str:
    """`CROSS JOIN LATERAL` giving `{alias}.online` for each row of `sensor`.

    `now` is SQL for a timestamptz, `window` for an interval of at least `online_window`, both
    fixed for the query (a parameter, a literal, a Grafana variable: not a subquery, which
    TimescaleDB would evaluate for every chunk and every sensor).

    The type's row is joined here rather than looked up by a scalar subquery inside the EXISTS:
    PostgreSQL 15 computes such a nested subquery once and reuses it for every later sensor (a
    gauge got a smoke detector's three hours). OFFSET 0 keeps the planner from flattening this
    subquery into the outer query, which would copy the expression into every place that reads
    `{alias}.online`: counting online and offline would probe the readings twice per sensor."""
    state = _effective_online(now, window, sensor, "online_type")
    return f"""CROSS JOIN LATERAL (
    SELECT {state} AS online
    FROM sensor_types online_type WHERE online_type.id = {sensor}.sensor_type_id
    OFFSET 0
) {alias}"""
