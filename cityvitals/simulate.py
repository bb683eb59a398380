"""Wiring the simulators to settings, the broker and (to register the fleet) the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cityvitals.settings import Settings
from schemas.geography import Geography
from schemas.registry import Registry
from simulators.engine import ScheduledScenario, Simulation
from simulators.faults import FaultRates
from simulators.fleet import build_fleet, fleet_inventory, hotspot_warnings
from simulators.model import SimSensor
from simulators.publisher import FleetPublisher
from simulators.runner import RunStats, drive
from simulators.scenarios import load_scenarios
from simulators.signals import SignalModel
from storage.catalog import sync_inventory
from storage.pool import connection, create_pool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CityPlan:
    sensors: int = 2_000
    seed: int = 1
    faults: FaultRates = field(default_factory=FaultRates)
    # Incidents: these scenarios in turn, one every `scenario_every` from `first_scenario_after`.
    scenarios: tuple[str, ...] = ()
    scenario_every: timedelta = timedelta(minutes=5)
    first_scenario_after: timedelta = timedelta(minutes=1)
    scenario_horizon: timedelta = timedelta(days=7)


def build_city(
    registry: Registry, geography: Geography, plan: CityPlan, start: datetime
) -> Simulation:
    """The fleet in every configured district and the planned incidents. Hotspots naming places
    the geography does not hold are logged and ignored; the drills are loaded (and their places
    checked against the geography) only when the plan asks for some."""
    for warning in hotspot_warnings(registry, geography):
        log.warning("%s", warning)
    fleet = build_fleet(registry, geography, size=plan.sensors, seed=plan.seed)
    catalogue = load_scenarios(registry, geography=geography) if plan.scenarios else {}
    unknown = [name for name in plan.scenarios if name not in catalogue]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known: {sorted(catalogue)}")
    schedule = []
    if plan.scenarios:
        count = int(plan.scenario_horizon / plan.scenario_every)
        for k in range(count):
            scenario = catalogue[plan.scenarios[k % len(plan.scenarios)]]
            at = start + plan.first_scenario_after + k * plan.scenario_every
            schedule.append(ScheduledScenario(scenario, at))
    return Simulation(
        fleet, SignalModel(plan.seed), seed=plan.seed, faults=plan.faults, scenarios=schedule
    )


async def register_fleet(database_url: str, fleet: list[SimSensor]) -> int:
    """Put the simulated sensors in the inventory, as an installer would before they report."""
    pool = await create_pool(database_url, max_size=1, application_name="cityvitals-simulate")
    try:
        async with connection(pool, "registering the simulated fleet") as conn:
            return await sync_inventory(conn, fleet_inventory(fleet))
    finally:
        await pool.close()


def publish_city(
    settings: Settings,
    simulation: Simulation,
    *,
    start: datetime,
    end: datetime | None,
    speed: float | None,
    stop: threading.Event,
    anchor: float | None = None,
    connections: int = 4,
    client_prefix: str = "cityvitals-sim",
    on_caught_up: Callable[[], object] | None = None,
) -> RunStats:
    """Births, then the traffic from `start` to `end` (or until `stop`), then a clean flush;
    `on_caught_up`: see `drive`."""
    publisher = FleetPublisher(
        settings.mqtt_url,
        client_prefix,
        connections=connections,
        ca_file=settings.mqtt_ca_file,
    )
    publisher.start()
    try:
        for message in simulation.births(start):
            publisher.publish(message)
        return drive(
            simulation,
            publisher.publish,
            start=start,
            end=end,
            speed=speed,
            stop=stop,
            anchor=anchor,
            on_caught_up=on_caught_up,
        )
    finally:
        publisher.stop()
