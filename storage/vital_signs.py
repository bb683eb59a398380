"""The city's vital signs now: per subdistrict and domain, what the sensors say (what fires comes
from the alert store, `alerts.store.firing_counts`).

Two small aggregate queries, per subdistrict; district-wide figures are folded from them by the
caller (sums and counts add up, averages come from sum / reporting). A sensor counts as reporting
a metric when its newest reading is younger than `intervals` of its type's reporting interval
(at least `min_window`): "current" means current for that kind of sensor, an hourly smoke
detector as much as a water-pressure gauge reporting every minute. Online and offline are the
effective state of storage/online.py: the status topic's word, else what the readings say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from storage.online import online_join, online_window

_METRICS = """
WITH latest AS (
    SELECT t.domain, t.name AS type, m.name AS metric, m.unit, m.kind, s.subdistrict_id, l.value
    FROM sensors s
    JOIN sensor_types t ON t.id = s.sensor_type_id
    JOIN metrics m ON m.sensor_type_id = t.id
    LEFT JOIN LATERAL (
        SELECT r.value FROM readings r
        WHERE r.sensor_id = s.id AND r.metric_id = m.id AND r.ts <= $1
          AND r.ts > $1 - make_interval(secs => greatest(t.reporting_interval_s * $2, $3))
        ORDER BY r.ts DESC LIMIT 1
    ) l ON true
    WHERE $4::text IS NULL OR t.domain = $4
)
SELECT domain, type, metric, unit, kind, d.code AS subdistrict, count(*) AS sensors,
       count(value) AS reporting, sum(value) AS sum, min(value) AS min, max(value) AS max
FROM latest JOIN subdistricts d ON d.id = latest.subdistrict_id
GROUP BY domain, type, metric, unit, kind, d.id, d.code
ORDER BY domain, type, metric, d.id
"""


async def metric_figures(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    domain: str | None = None,
    intervals: float = 3.0,
    min_window: timedelta = timedelta(minutes=5),
) -> list[dict[str, Any]]:
    """Per (domain, type, metric, subdistrict): sensors, reporting, sum, min, max of each
    sensor's current value."""
    rows = await conn.fetch(_METRICS, now, intervals, min_window.total_seconds(), domain)
    return [dict(r) for r in rows]


_SENSOR_COUNTS = f"""
SELECT t.domain, d.code AS subdistrict, count(*) AS sensors,
       count(*) FILTER (WHERE o.online) AS online,
       count(*) FILTER (WHERE NOT o.online) AS offline
FROM sensors s
JOIN sensor_types t ON t.id = s.sensor_type_id
JOIN subdistricts d ON d.id = s.subdistrict_id
{online_join("$1::timestamptz", "$2::interval")}
WHERE $3::text IS NULL OR t.domain = $3
GROUP BY 1, 2
"""


async def sensor_counts(
    conn: asyncpg.Connection, now: datetime, *, domain: str | None = None
) -> list[dict[str, Any]]:
    """Per (domain, subdistrict): sensors, online, offline at `now`, by the effective state of
    storage/online.py (a sensor of unknown state is neither)."""
    rows = await conn.fetch(_SENSOR_COUNTS, now, await online_window(conn), domain)
    return [dict(r) for r in rows]
