"""The overview's ingest health: readings per minute, lag per domain, dead letters."""

from __future__ import annotations

from grafana_dashboards import panels
from grafana_dashboards.boards import Layout
from grafana_dashboards.i18n import Lang, text
from grafana_dashboards.labels import domain_colours, domain_labels
from schemas.registry import Registry

LAG_STEPS = ((None, "green"), (120.0, "yellow"), (300.0, "orange"), (900.0, "red"))


def ingest_rate_sql(registry: Registry, lang: Lang) -> str:
    domain = domain_labels(registry, lang, "t.domain")
    return f"""SELECT $__timeGroupAlias(r.ts, $__interval), {domain} AS metric,
       count(*) * 60000.0 / $__interval_ms AS value
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN sensor_types t ON t.id = s.sensor_type_id
WHERE $__timeFilter(r.ts)
GROUP BY 1, 2
ORDER BY 1, 2"""


def ingest_lag_sql(registry: Registry, lang: Lang) -> str:
    return f"""SELECT {domain_labels(registry, lang, "t.domain")} AS domain,
       extract(epoch FROM $__timeTo()::timestamptz - max(r.ts)) AS lag
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN sensor_types t ON t.id = s.sensor_type_id
WHERE r.ts > $__timeTo()::timestamptz - interval '1 hour' AND r.ts <= $__timeTo()
GROUP BY t.domain
ORDER BY t.domain"""


DEAD_LETTERS_SQL = """SELECT $__timeGroupAlias(received_at, $__interval), reason AS metric,
       count(*) AS value
FROM dead_letters
WHERE $__timeFilter(received_at)
GROUP BY 1, 2
ORDER BY 1, 2"""

DEAD_LETTERS_TOTAL_SQL = """SELECT count(*) AS dead_letters
FROM dead_letters
WHERE $__timeFilter(received_at)"""


def ingest_health(layout: Layout, registry: Registry, lang: Lang) -> None:
    layout.row(text("ingest", lang))
    rate = panels.time_series(
        text("ingest_rate", lang), ingest_rate_sql(registry, lang), unit="short"
    )
    layout.add(
        rate.time_from("3h").overrides(panels.colour_by_name(domain_colours(registry, lang)))
    )
    layout.add(
        panels.bars_by_row(
            text("ingest_lag", lang),
            ingest_lag_sql(registry, lang),
            unit="s",
            thresholds=panels.fixed_steps(*LAG_STEPS),
            decimals=0,
            width=4,
        )
    )
    dead = panels.time_series(
        text("dead_letters", lang), DEAD_LETTERS_SQL, unit="short", bars=True, width=5
    )
    layout.add(dead)
    layout.add(
        panels.big_number(
            text("dead_letters_total", lang),
            DEAD_LETTERS_TOTAL_SQL,
            unit="short",
            thresholds=panels.fixed_steps((None, "green"), (1.0, "yellow"), (100.0, "orange")),
            width=3,
            height=8,
        )
    )
