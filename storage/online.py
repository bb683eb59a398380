"""A sensor's effective online state: the one definition the API, vital signs and walls share.

Devices with an MQTT birth and last will say `online`/`offline` on their status topic
(storage/status.py keeps the newest word on `sensors.online`); that word is the state. Many
devices only send telemetry; their state comes from their readings:

- online: a reading within OFFLINE_AFTER_INTERVALS of its type's reporting intervals (the
  silence after which the alert engine's default "sensor offline" rule fires);
- offline: none that recent, but a reading within HISTORY;
- unknown (NULL): no status and no reading within HISTORY, i.e. never reported as far as we
  look back.

Why HISTORY bounds "ever": a probe costs one descent of the readings' unique index per daily
partition (or chunk) its time range touches. Unbounded, a sensor that never reported would probe
every partition of the raw retention (90 days, plus a week created ahead); a week is 8, and stays
in chunks TimescaleDB has not compressed yet (`compress_after_days` defaults to 7). A reporting
sensor, the usual case, costs one probe: the second EXISTS runs only when the first finds nothing.

Time is a parameter: callers pass SQL for "now" (`$1::timestamptz` in the service queries,
Grafana's `$__timeTo()` on the walls), so tests step time and a wall shows its range's end.
"""

from __future__ import annotations

from datetime import timedelta

# Equal to alerts.rules.defaults.DEFAULT_ABSENCE_INTERVALS (storage cannot import alerts; a test
# compares them): a telemetry-only sensor shows offline exactly when its default rule calls it
# silent.
OFFLINE_AFTER_INTERVALS = 3
HISTORY_DAYS = 7
HISTORY = timedelta(days=HISTORY_DAYS)


def _reported(sensor: str, now: str, since: str | None = None) -> str:
    """EXISTS: the sensor has a reading in (now - HISTORY, now], and after `since` if given.

    The HISTORY bound is constant relative to `now`, so the planner prunes the readings to the
    last week's partitions (or chunks) once per query; `since` depends on the sensor's type, so
    it prunes those few again on each probe. Bounded by `since` alone, every probe re-pruned all
    partitions of the retention (measured on 100,000 sensors: 1.3 s instead of 0.9 s). Any
    metric counts, so the probe uses the index's leading column only: a reporting sensor
    matches on its first index entry, its first metric's newest reading."""
    lines = [
        f"SELECT FROM readings r WHERE r.sensor_id = {sensor}.id",
        f"AND r.ts > {now} - interval '{HISTORY_DAYS} days'",
        *([] if since is None else [f"AND r.ts > {since}"]),
        f"AND r.ts <= {now}",
    ]
    body = "".join(f"\n            {line}" for line in lines)
    return f"EXISTS ({body}\n        )"


def _effective_online(now: str, sensor: str, sensor_type: str) -> str:
    """A boolean SQL expression (NULL: unknown) over a `sensors` row and its type's row."""
    grace = f"make_interval(secs => {sensor_type}.reporting_interval_s * {OFFLINE_AFTER_INTERVALS})"
    return f"""CASE
        WHEN {sensor}.online IS NOT NULL THEN {sensor}.online
        WHEN {_reported(sensor, now, since=f"{now} - {grace}")} THEN true
        WHEN {_reported(sensor, now)} THEN false
    END"""


def online_join(now: str, sensor: str = "s", alias: str = "o") -> str:
    """`CROSS JOIN LATERAL` giving `{alias}.online` for each row of `sensor`.

    The type's row is joined here rather than looked up by a scalar subquery inside the EXISTS:
    PostgreSQL 15 computes such a nested subquery once and reuses it for every later sensor (a
    gauge got a smoke detector's three hours). OFFSET 0 keeps the planner from flattening this
    subquery into the outer query, which would copy the expression into every place that reads
    `{alias}.online`: counting online and offline would probe the readings twice per sensor."""
    state = _effective_online(now, sensor, "online_type")
    return f"""CROSS JOIN LATERAL (
    SELECT {state} AS online
    FROM sensor_types online_type WHERE online_type.id = {sensor}.sensor_type_id
    OFFSET 0
) {alias}"""
