"""The overview's ingest health, run as Grafana runs it: every domain in use is listed, a silent
or never-seen one shows red, and the rate adds up to the readings stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from grafana_foundation_sdk.builders import dashboard

from grafana_dashboards.boards import Layout
from grafana_dashboards.i18n import Lang, domain_name, text
from grafana_dashboards.ingest_health import (
    LAG_STEPS,
    NEVER_SEEN,
    ingest_health,
    ingest_lag_sql,
    ingest_rate_sql,
)
from schemas.registry import Registry
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.writer import ReadingWriter
from tests.grafana_dashboards.grafana_sql import calculate_interval, expand
from tests.harness import ScratchDatabase


def threshold_colour(value: float) -> str:
    """The colour Grafana gives `value` with the lag panel's steps (the last step reached)."""
    colour = LAG_STEPS[0][1]
    for step, step_colour in LAG_STEPS[1:]:
        if step is not None and value >= step:
            colour = step_colour
    return colour


def lag_panel_mappings(registry: Registry, lang: Lang) -> dict[str, Any]:
    """The lag panel's value mappings as generated: value -> (text, colour)."""
    layout = Layout(dashboard.Dashboard("ingest health"), lang)
    ingest_health(layout, registry, lang)
    built = layout.board.build()
    (panel,) = [
        p for p in built.panels or [] if getattr(p, "title", None) == text("ingest_lag", lang)
    ]
    mappings = panel.field_config.defaults.mappings  # type: ignore[union-attr]
    return {
        value: (result.text, result.color)
        for mapping in mappings or []
        for value, result in mapping.options.items()  # type: ignore[union-attr]
    }


async def run_panel(
    pool: asyncpg.Pool, backend: Backend, sql: str, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    query = expand(
        sql,
        start,
        end,
        variables={},
        interval=calculate_interval(start, end),
        timescaledb=backend is Backend.TIMESCALEDB,
    )
    rows: list[asyncpg.Record] = await pool.fetch(query)
    return rows


async def _report(
    pool: asyncpg.Pool, backend: Backend, type_name: str, metric: str, times: list[datetime]
) -> None:
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    sensor = min(s.id for s in catalog.sensors.values() if s.type_name == type_name)
    metric_id = catalog.metric_ids[(type_name, metric)]
    await ReadingWriter(pool, backend).write([(ts, sensor, metric_id, 0.3) for ts in times])


@pytest.mark.parametrize("lang", [Lang.ZH, Lang.EN])
async def test_a_silent_domain_shows_red_and_every_domain_is_listed(
    prepared: ScratchDatabase, pool: asyncpg.Pool, registry: Registry, now: datetime, lang: Lang
) -> None:
    backend = prepared.backend
    # Water went silent two hours ago (beyond the old panel's one-hour lookback); power reports.
    await _report(pool, backend, "water_main_pressure", "pressure", [now - timedelta(hours=2)])
    await _report(pool, backend, "distribution_transformer", "load", [now - timedelta(seconds=30)])

    rows = await run_panel(
        pool, backend, ingest_lag_sql(registry, lang), now - timedelta(hours=6), now
    )

    names = {d.code: domain_name(d, lang) for d in registry.domains_in_use()}
    assert [r["domain"] for r in rows] == list(names.values())
    lag = {r["domain"]: float(r["lag"]) for r in rows}
    assert lag[names["water"]] == 7200.0
    assert threshold_colour(lag[names["water"]]) == "red"
    assert threshold_colour(lag[names["power"]]) == "green"
    # Never seen: the sentinel, which the panel maps to a red "no data" (not green, not empty).
    never = {code for code in names if code not in ("water", "power")}
    assert never
    assert {code: lag[names[code]] for code in never} == dict.fromkeys(never, NEVER_SEEN)
    assert lag_panel_mappings(registry, lang) == {
        str(NEVER_SEEN): (text("ingest_never", lang), "red")
    }


async def test_the_lag_is_taken_at_the_end_of_the_range(
    prepared: ScratchDatabase, pool: asyncpg.Pool, registry: Registry, now: datetime
) -> None:
    backend = prepared.backend
    await _report(pool, backend, "water_main_pressure", "pressure", [now - timedelta(minutes=1)])
    earlier = now - timedelta(minutes=10)
    rows = await run_panel(
        pool, backend, ingest_lag_sql(registry, Lang.EN), earlier - timedelta(hours=1), earlier
    )
    # At the range's end nothing of water was stored yet: no data, not a negative lag.
    water = domain_name(registry.domains["water"], Lang.EN)
    assert {r["domain"]: r["lag"] for r in rows}[water] == NEVER_SEEN


async def test_the_rate_adds_up_to_the_readings_stored(
    prepared: ScratchDatabase, pool: asyncpg.Pool, registry: Registry, now: datetime
) -> None:
    backend = prepared.backend
    start = now - timedelta(minutes=30)
    # 12 readings a minute for 5 minutes, then 6 a minute for 5.
    times = [start + timedelta(seconds=5 * i) for i in range(60)]
    times += [start + timedelta(minutes=5, seconds=10 * i) for i in range(30)]
    await _report(pool, backend, "water_main_pressure", "pressure", times)

    rows = await run_panel(
        pool, backend, ingest_rate_sql(registry, Lang.EN), now - timedelta(hours=3), now
    )

    water = domain_name(registry.domains["water"], Lang.EN)
    per_minute = [float(r["value"]) for r in rows if r["metric"] == water]
    assert per_minute == [12.0] * 5 + [6.0] * 5
    assert {r["metric"] for r in rows} == {water}
