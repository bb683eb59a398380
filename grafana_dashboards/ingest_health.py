"""The overview's ingest health: readings per minute, lag per domain, dead letters.

Every query here reads small tables only: `ingest_activity` (readings stored per minute and
domain, with the newest one's time; kept by the ingest's writer, storage/activity.py) and
`dead_letters` through its (received_at, reason) index. None scans raw readings, so a viewer
refreshing every 30 s costs a few rows per domain and minute however fast the city reports.
"""

from __future__ import annotations

from grafana_dashboards import panels, sql
from grafana_dashboards.board_links import board_link
from grafana_dashboards.boards import Layout
from grafana_dashboards.cell_words import ATTENTION
from grafana_dashboards.i18n import Lang, domain_name, text
from grafana_dashboards.labels import domain_colours, domain_labels
from grafana_dashboards.tables import value_texts
from schemas.registry import Registry

LAG_STEPS = ((None, "green"), (120.0, "yellow"), (300.0, "orange"), (900.0, "red"))
# The lag of a domain without any stored reading (never seen, or silent for longer than the
# activity is kept): a bar gauge would colour NULL as the base step, green, so it is this value,
# mapped to a red "no data".
NEVER_SEEN = -1
RATE_WIDTH = 12
LAG_WIDTH = 4
DEAD_LETTERS_WIDTH = 5
DEAD_LETTERS_TOTAL_WIDTH = 3
HEIGHT = 8


def ingest_rate_sql(registry: Registry, lang: Lang) -> str:
    """Readings stored per minute and domain. The activity is per minute, so the panel's
    interval is at least a minute (`ingest_health`); sums of minutes scale to a minute's rate."""
    domain = domain_labels(registry, lang, "domain")
    return f"""SELECT $__timeGroupAlias(minute, $__interval), {domain} AS metric,
       sum(readings) * 60000.0 / $__interval_ms AS value
FROM ingest_activity
WHERE $__timeFilter(minute)
GROUP BY 1, 2
ORDER BY 1, 2"""


def ingest_lag_sql(registry: Registry, lang: Lang) -> str:
    """Per domain in use, the age of its newest stored reading at the range's end, however old:
    one index probe per domain (its newest minute up to the range's end), no lookback window.
    A reading later than the end in that minute counts as at the end (lag 0)."""
    domains = ",\n       ".join(
        f"({position}, {sql.quote(d.code)}, {sql.quote(domain_name(d, lang))})"
        for position, d in enumerate(registry.domains_in_use())
    )
    # Not least()/greatest() around a NULL newest: they skip NULLs and would say "lag 0".
    return f"""SELECT d.label AS domain, d.code,
       CASE WHEN a.newest IS NULL THEN {NEVER_SEEN}
            ELSE greatest(extract(epoch FROM $__timeTo()::timestamptz - a.newest), 0) END AS lag
FROM (VALUES {domains}) AS d(position, code, label)
LEFT JOIN LATERAL (
    SELECT newest FROM ingest_activity
    WHERE domain = d.code AND minute <= $__timeTo()
    ORDER BY minute DESC
    LIMIT 1
) a ON true
ORDER BY d.position"""


DEAD_LETTERS_SQL = """SELECT $__timeGroupAlias(received_at, $__interval), reason AS metric,
       count(*) AS value
FROM dead_letters
WHERE $__timeFilter(received_at)
GROUP BY 1, 2
ORDER BY 1, 2"""

DEAD_LETTERS_TOTAL_SQL = """SELECT count(*) AS dead_letters
FROM dead_letters
WHERE $__timeFilter(received_at)"""


# Every query of the panels, for tests that check what they read.
def ingest_health_queries(registry: Registry, lang: Lang) -> dict[str, str]:
    return {
        "rate": ingest_rate_sql(registry, lang),
        "lag": ingest_lag_sql(registry, lang),
        "dead_letters": DEAD_LETTERS_SQL,
        "dead_letters_total": DEAD_LETTERS_TOTAL_SQL,
    }


def ingest_health(layout: Layout, registry: Registry, lang: Lang) -> None:
    layout.row(text("ingest", lang))
    rate = panels.time_series(
        text("ingest_rate", lang), ingest_rate_sql(registry, lang), unit="short", width=RATE_WIDTH
    )
    layout.add(
        rate.time_from("3h")
        .interval("1m")  # the activity's resolution: a finer interval would draw gaps and spikes
        .overrides(panels.colour_by_name(domain_colours(registry, lang)))
    )
    lag = panels.bars_by_row(
        text("ingest_lag", lang),
        ingest_lag_sql(registry, lang),
        unit="s",
        thresholds=panels.fixed_steps(*LAG_STEPS),
        decimals=0,
        width=LAG_WIDTH,
        height=HEIGHT,
    )
    never = value_texts({NEVER_SEEN: (text("ingest_never", lang), "red")})
    domain_board = board_link(text("domain_board", lang), "${__data.fields.code}", lang)
    # The bar is named by the domain alone; the code is there for the link.
    layout.add(
        lag.mappings(never).display_name("${__data.fields.domain}").data_links([domain_board])
    )
    dead = panels.time_series(
        text("dead_letters", lang),
        DEAD_LETTERS_SQL,
        unit="short",
        bars=True,
        width=DEAD_LETTERS_WIDTH,
        height=HEIGHT,
    )
    layout.add(dead)
    layout.add(
        panels.big_number(
            text("dead_letters_total", lang),
            DEAD_LETTERS_TOTAL_SQL,
            unit="short",
            # Refused messages need someone; not in grade colours, which would read as a grade.
            thresholds=panels.fixed_steps((None, panels.GREEN), (1.0, ATTENTION)),
            width=DEAD_LETTERS_TOTAL_WIDTH,
            height=HEIGHT,
        )
    )
