"""Incident drills end to end: simulator -> real Mosquitto -> ingest -> PostgreSQL -> engine ->
a real HTTP receiver that checks every signature.

Each scenario YAML says which alerts it should raise (type, metric, subdistrict, at least which
grade, within how long); the drill plays the scenario at the time of day it was written for,
steps the engine through the stored history, and checks each expectation and that every message
reached the receiver exactly once, signed.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import orjson
import pytest

from alerts.engine.core import EngineCore
from alerts.engine.outbox import Outbox
from alerts.notify.receivers import parse_routing
from alerts.rules.files import RULES_DIR, load_rule_files
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.grades import GRADES_BY_SEVERITY
from schemas.registry import Registry
from simulators.engine import ScheduledScenario, Simulation
from simulators.fleet import build_fleet, fleet_inventory
from simulators.publisher import FleetPublisher
from simulators.runner import drive
from simulators.scenarios import Scenario, load_scenarios
from simulators.signals import SignalModel
from storage.catalog import sync_inventory
from tests.alerts.local_receiver import (
    SECRET,
    LocalReceiver,
    idempotency_key_of,
    running_receiver,
)
from tests.harness import ScratchDatabase
from tests.ingest.traffic import count_readings, ingest_settings, running
from tests.waiting import wait_until

SEED = 3
LEAD_IN = timedelta(minutes=20)  # quiet city before the incident


@pytest.fixture
async def receiver() -> AsyncIterator[LocalReceiver]:
    async with running_receiver() as local:
        yield local


def _start_for(scenario: Scenario) -> datetime:
    """The latest start at the scenario's time of day that lies wholly in the past."""
    latest = datetime.now(UTC) - timedelta(seconds=scenario.end_s) - timedelta(minutes=40)
    start = scenario.next_start(latest - timedelta(days=1))
    while scenario.next_start(start + timedelta(seconds=1)) <= latest:
        start = scenario.next_start(start + timedelta(seconds=1))
    return start.astimezone(UTC).replace(second=0, microsecond=0)


def _readings_in(simulation: Simulation, start: datetime, end: datetime) -> int:
    return sum(
        len(orjson.loads(m.payload)["metrics"])
        for m in simulation.run(start, end)
        if m.topic.endswith("/telemetry")
    )


async def _play(
    simulation: Callable[[], Simulation],
    start: datetime,
    end: datetime,
    broker: EmbeddedMosquitto,
    database_url: str,
) -> None:
    expected = _readings_in(simulation(), start, end)
    publisher = FleetPublisher(broker.url, "drill-sim", connections=2)
    publisher.start()
    try:
        await asyncio.to_thread(
            drive, simulation(), publisher.publish, start=start, end=end, stop=threading.Event()
        )
        assert await asyncio.to_thread(publisher.flush)
    finally:
        await asyncio.to_thread(publisher.stop)

    async def all_stored() -> bool:
        return await count_readings(database_url) >= expected

    await wait_until(all_stored, timeout_s=180)


@pytest.mark.parametrize("name", ["water_main_burst", "building_fire", "pollution_episode"])
async def test_a_drill_fires_its_expected_alerts_each_delivered_once_signed(
    name: str,
    prepared: ScratchDatabase,
    private_broker: EmbeddedMosquitto,
    pool: asyncpg.Pool,
    registry: Registry,
    receiver: LocalReceiver,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    scenario = load_scenarios(registry)[name]
    fleet = build_fleet(registry, size=600, seed=SEED)
    async with pool.acquire() as conn:
        await sync_inventory(conn, fleet_inventory(fleet))
    incident = _start_for(scenario)
    start, end = incident - LEAD_IN, incident + timedelta(seconds=scenario.end_s)

    def simulation() -> Simulation:
        schedule = [ScheduledScenario(scenario, incident)]
        return Simulation(fleet, SignalModel(SEED), seed=SEED, scenarios=schedule)

    settings = ingest_settings(prepared.url, private_broker.url)
    async with running(service_factory(settings, pool)):
        await _play(simulation, start, end, private_broker, prepared.url)

    routing = parse_routing(
        f"receivers: [{{name: duty, kind: webhook, url: '{receiver.url()}', "
        "secret_env: DUTY_SECRET}]\ndefault_receiver: duty\nallow_local_urls: true\n",
        "receivers.yaml",
        {"DUTY_SECRET": SECRET},
    )
    core = EngineCore(registry, load_rule_files(registry, RULES_DIR), routing)
    fired: list[tuple[str, str | None, str, str, datetime]] = []
    async with pool.acquire() as conn, httpx.AsyncClient(trust_env=False) as http:
        outbox = Outbox(pool, http)
        await core.resume(conn, start)
        now = start
        while now <= end:
            report = await core.tick(conn, now)
            for rule_id, transition in report.transitions:
                if transition.kind in ("firing", "grade_up") and transition.grade is not None:
                    rule = core.rules.rules[rule_id]
                    alert = report.alerts[transition.fingerprint]
                    place = alert.subject.subdistrict or "district"
                    fired.append((rule.scope.type_name, rule.metric, place, transition.grade, now))
            await outbox.deliver_due(routing)
            now += timedelta(seconds=30)
        await outbox.deliver_due(routing)

    for expected in scenario.expected_alerts:
        floor = GRADES_BY_SEVERITY.index(expected.grade)
        deadline = incident + timedelta(seconds=expected.within_s)
        matches = [
            f
            for f in fired
            if f[0] == expected.type
            and f[1] == expected.metric
            and expected.subdistrict in (f[2], "district")
            and GRADES_BY_SEVERITY.index(f[3]) >= floor
            and incident <= f[4] <= deadline
        ]
        assert matches, f"{name}: no {expected} among {sorted(set(f[:4] for f in fired))}"
    keys = Counter(idempotency_key_of(s) for s in receiver.seen)
    stored = await pool.fetch("SELECT idempotency_key, state FROM notifications")
    assert stored, "the drill sent nothing"
    assert {r["state"] for r in stored} == {"delivered"}  # the receiver verified every signature
    assert set(keys) == {r["idempotency_key"] for r in stored}
    assert set(keys.values()) == {1}  # each exactly once
