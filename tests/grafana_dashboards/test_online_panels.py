"""The walls show the same online state as the API and the vital signs (storage/online.py): a
sensor without a status topic is online while it reports, offline after its grace."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import asyncpg

from grafana_dashboards import drilldown, sql, subdistrict_map
from grafana_dashboards.i18n import Lang
from schemas.geography import load_geography
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.online import WINDOW_SECONDS_SQL
from storage.vital_signs import sensor_counts
from storage.writer import ReadingWriter
from tests.grafana_dashboards.grafana_sql import Value, expand, several, single
from tests.harness import ScratchDatabase

SUBDISTRICTS = list(load_geography())
EVERY_SUBDISTRICT = {"subdistrict": several([s.code for s in SUBDISTRICTS])}


async def _report(pool: asyncpg.Pool, backend: Backend, sensor: str, ts: datetime) -> None:
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    metric_id = catalog.metric_ids[("water_main_pressure", "pressure")]
    await ReadingWriter(pool, backend).write([(ts, catalog.sensors[sensor].id, metric_id, 0.3)])


async def _wall(
    pool: asyncpg.Pool, panel_sql: str, now: datetime, variables: Mapping[str, Value]
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        # The boards' hidden variable, as Grafana fills it in.
        window = single(str(await conn.fetchval(WINDOW_SECONDS_SQL)))
        query = expand(
            panel_sql,
            now - timedelta(hours=1),
            now,
            variables={**variables, sql.ONLINE_WINDOW: window},
            interval=timedelta(minutes=1),
        )
        rows: list[asyncpg.Record] = await conn.fetch(query)
        return rows


async def test_the_walls_count_telemetry_only_sensors_like_the_vital_signs(
    pool: asyncpg.Pool, prepared: ScratchDatabase, now: datetime
) -> None:
    # Yinhang's two pressure gauges: -0001 reports, -0002 went silent an hour ago.
    await _report(pool, prepared.backend, "yp-wp-0001", now - timedelta(minutes=1))
    await _report(pool, prepared.backend, "yp-wp-0002", now - timedelta(hours=1))

    table = await _wall(
        pool,
        drilldown.sensors_table_sql(Lang.EN),
        now,
        {"sensor": several(["yp-wp-0001", "yp-wp-0002", "yp-wp-0003"])},
    )
    assert [(r["sensor"], r["online"]) for r in table] == [
        ("yp-wp-0001", True),
        ("yp-wp-0002", False),
        ("yp-wp-0003", None),  # never reported
    ]

    share = await _wall(pool, sql.online_share("'water_main_pressure'"), now, EVERY_SUBDISTRICT)
    async with pool.acquire() as conn:
        gauges = await conn.fetchval(
            "SELECT count(*) FROM sensors s JOIN sensor_types t ON t.id = s.sensor_type_id "
            "WHERE t.name = 'water_main_pressure'"
        )
        counts = await sensor_counts(conn, now)
    assert float(share[0]["online"]) == round(100.0 / gauges, 1)

    on_the_map = await _wall(pool, subdistrict_map.map_sql(Lang.EN), now, {})
    by_code = {r["code"]: (r["online"], r["offline"]) for r in on_the_map}
    assert by_code["yinhang"] == (1, 1)
    expected: dict[str, tuple[int, int]] = {s.code: (0, 0) for s in SUBDISTRICTS}
    for row in counts:
        online, offline = expected[row["subdistrict"]]
        expected[row["subdistrict"]] = (online + row["online"], offline + row["offline"])
    assert by_code == expected


async def test_the_walls_show_the_state_at_the_end_of_their_range(
    pool: asyncpg.Pool, prepared: ScratchDatabase, now: datetime
) -> None:
    await _report(pool, prepared.backend, "yp-wp-0001", now)
    sensor = {"sensor": single("yp-wp-0001", multi=True)}
    table_sql = drilldown.sensors_table_sql(Lang.ZH)
    assert (await _wall(pool, table_sql, now, sensor))[0]["online"] is True
    # Three silent minutes later the gauge (60 s interval) is offline on the wall too.
    later = now + timedelta(minutes=3)
    assert (await _wall(pool, table_sql, later, sensor))[0]["online"] is False
