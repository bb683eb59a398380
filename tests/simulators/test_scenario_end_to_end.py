"""A scenario through the real broker, ingest and database leaves its shape in the data."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.registry import Registry
from simulators.engine import ScheduledScenario, Simulation
from simulators.fleet import build_fleet, fleet_inventory
from simulators.publisher import FleetPublisher
from simulators.runner import drive
from simulators.scenarios import load_scenarios
from simulators.signals import SignalModel
from storage.catalog import sync_inventory
from tests.harness import ScratchDatabase
from tests.ingest.traffic import count_readings, ingest_settings, running
from tests.waiting import wait_until

_PRESSURE_BY_PLACE_AND_TIME = """
SELECT (d.code = 'yinhang') AS in_yinhang, r.ts >= $1 AS during, avg(r.value) AS mean
FROM readings r
JOIN sensors s ON s.id = r.sensor_id
JOIN subdistricts d ON d.id = s.subdistrict_id
JOIN metrics m ON m.id = r.metric_id AND m.name = 'pressure'
JOIN sensor_types t ON t.id = s.sensor_type_id AND t.name = 'water_main_pressure'
WHERE r.ts >= $2 AND r.ts < $3
GROUP BY 1, 2
"""


def _expected_readings(simulation: Simulation, start: datetime, end: datetime) -> int:
    total = 0
    for message in simulation.run(start, end):
        if message.topic.endswith("/telemetry"):
            total += len(orjson.loads(message.payload)["metrics"])
    return total


async def test_water_main_burst_shows_in_the_right_place_at_the_right_time(
    prepared: ScratchDatabase,
    private_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    registry: Registry,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    mqtt_broker = private_broker  # births are retained: keep them off the shared broker
    fleet = build_fleet(registry, size=800, seed=3)
    async with pool.acquire() as conn:
        await sync_inventory(conn, fleet_inventory(fleet))
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    burst_at = start + timedelta(minutes=45)
    end = burst_at + timedelta(minutes=30)
    scenario = load_scenarios(registry)["water_main_burst"]

    def simulation() -> Simulation:
        schedule = [ScheduledScenario(scenario, burst_at)]
        return Simulation(fleet, SignalModel(3), seed=3, scenarios=schedule)

    expected = _expected_readings(simulation(), start, end)
    settings = ingest_settings(prepared.url, mqtt_broker.url)
    async with running(service_factory(settings, pool)):
        publisher = FleetPublisher(mqtt_broker.url, "test-sim", connections=2)
        publisher.start()
        try:
            await asyncio.to_thread(
                drive,
                simulation(),
                publisher.publish,
                start=start,
                end=end,
                stop=threading.Event(),
            )
            assert await asyncio.to_thread(publisher.flush)
        finally:
            await asyncio.to_thread(publisher.stop)

        async def all_stored() -> bool:
            return await count_readings(prepared.url) >= expected

        await wait_until(all_stored, timeout_s=120)
    assert await count_readings(prepared.url) == expected

    # Full effect from the end of the ramp-in; compare with the 30 minutes before the burst.
    ramped = burst_at + timedelta(minutes=5)
    rows = await pool.fetch(
        _PRESSURE_BY_PLACE_AND_TIME, ramped, burst_at - timedelta(minutes=30), end
    )
    means = {(r["in_yinhang"], r["during"]): r["mean"] for r in rows}
    # Readings between the burst start and the end of the ramp count as 'before' here; keep them
    # out so the comparison is clean.
    rows_before = await pool.fetch(
        _PRESSURE_BY_PLACE_AND_TIME, burst_at, burst_at - timedelta(minutes=30), burst_at
    )
    before = {r["in_yinhang"]: r["mean"] for r in rows_before}
    # 0.8 on the whole zone and 0.6 on half its gauges; with few gauges the mean varies.
    assert means[(True, True)] / before[True] < 0.85  # Yinhang's pressure fell
    assert 0.9 < means[(False, True)] / before[False] < 1.1  # elsewhere it did not
