"""A small simulated city in a real database, for running the walls' SQL.

The simulators' own traffic (births, telemetry with faults, an incident) goes through the
ingest's resolver - the code that turns MQTT messages into readings, dead letters and status
changes - and the storage writer, skipping only the broker; then rollups are refreshed. Alerts
are a handful of rows in the alert engine's tables, on real sensors of the fleet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

import asyncpg

from ingest.config import Limits
from ingest.resolve import Inbound, Resolver
from schemas.inventory import UnknownSensorPolicy
from schemas.registry import Registry
from schemas.type_validator import validators_for
from simulators.engine import ScheduledScenario, SimMessage, Simulation
from simulators.faults import FaultRates
from simulators.fleet import build_fleet, fleet_inventory
from simulators.model import SimSensor
from simulators.scenarios import load_scenarios
from simulators.signals import SignalModel
from storage.backend import Backend
from storage.catalog import load_catalog, sync_inventory
from storage.rollups import refresh_rollups
from storage.writer import ReadingWriter

SEED = 11
FAULTS = FaultRates(
    dropout_per_day=0.5,  # some sensors offline during the window
    spike=0.002,
    duplicate=0.005,
    late=0.005,
    skewed_clocks=0.02,
    malformed=0.01,  # dead letters
)


@dataclass(frozen=True)
class City:
    start: datetime
    end: datetime
    readings: int
    dead_letters: int
    sensors: int


def _batches(messages: Iterator[SimMessage], size: int) -> Iterator[list[SimMessage]]:
    while batch := list(islice(messages, size)):
        yield batch


async def fill_city(
    pool: asyncpg.Pool,
    backend: Backend,
    registry: Registry,
    now: datetime,
    *,
    hours: float = 3,
    sensors: int = 150,
) -> City:
    fleet = build_fleet(registry, size=sensors, seed=SEED)
    async with pool.acquire() as conn:
        await sync_inventory(conn, fleet_inventory(fleet))
        catalog = await load_catalog(conn)
    start = now - timedelta(hours=hours)
    burst = ScheduledScenario(
        load_scenarios(registry)["water_main_burst"], now - timedelta(hours=1)
    )
    simulation = Simulation(fleet, SignalModel(SEED), seed=SEED, faults=FAULTS, scenarios=[burst])
    resolver = Resolver(pool, policy=UnknownSensorPolicy.DEAD_LETTER, limits=Limits())
    resolver.validators, resolver.catalog = validators_for(registry), catalog
    writer = ReadingWriter(pool, backend)
    readings = dead = 0
    traffic = iter([*simulation.births(start), *simulation.run(start, now)])
    for batch in _batches(traffic, 5_000):
        inbound = [
            Inbound(m.topic.encode(), m.payload, 0, 0, datetime.fromtimestamp(m.at, UTC))
            for m in batch
        ]
        resolved = resolver.resolve_known(inbound, inbound[-1].received_at, final=True).batch
        written = await writer.write(resolved.rows, resolved.dead_letters, resolved.status_changes)
        readings += written.inserted
        dead += len(resolved.dead_letters)
    async with pool.acquire() as conn:
        await refresh_rollups(conn, backend, now)
        await _alerts(conn, fleet, now)
    return City(start, now, readings, dead, len(fleet))


def _first(fleet: list[SimSensor], type_name: str) -> SimSensor:
    return next(s for s in fleet if s.type_name == type_name)


_ALERT = """
INSERT INTO alerts (fingerprint, rule_id, subject_kind, subject_id, domain, subdistrict, phase,
                    grade, value, pending_since, firing_since, resolved_at, ops,
                    acknowledged_by, acknowledged_at, assignee, closed_at, labels)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb)
"""
_TRANSITION = """
INSERT INTO alert_transitions (fingerprint, rule_id, at, kind, from_phase, to_phase, grade, value,
                               actor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def _alerts(conn: asyncpg.Connection, fleet: list[SimSensor], now: datetime) -> None:
    """Alerts in each phase and ops state, on sensors of the fleet and district-wide."""
    minutes = [now - timedelta(minutes=m) for m in range(61)]
    cases = [
        # (type, grade, phase, ops, fired minutes ago, acknowledged, closed)
        ("water_main_pressure", "red", "firing", "open", 40, None, None),
        ("distribution_transformer", "orange", "firing", "acknowledged", 50, 35, None),
        ("parking_lot_counter", "yellow", "firing", "assigned", 30, 25, None),
        ("indoor_environment", "blue", "resolved", "closed", 55, 45, 10),
        ("drain_level", "blue", "pending", "open", None, None, None),
        (None, "yellow", "firing", "open", 20, None, None),
    ]
    for n, (type_name, grade, phase, ops, fired, acked, closed) in enumerate(cases):
        if type_name is None:
            kind, subject, domain, place = "district", "yangpu", "water", None
        else:
            sensor = _first(fleet, type_name)
            kind, subject, place = "sensor", sensor.id, sensor.subdistrict
            domain = sensor.sensor_type.domain
        fingerprint, rule = f"fp{n:014d}", f"{type_name or 'district'}.rule"
        pending = minutes[(fired or 5) + 2]
        await conn.execute(
            _ALERT, fingerprint, rule, kind, subject, domain, place, phase, grade, 1.0, pending,
            minutes[fired] if fired else None, minutes[closed] if closed else None, ops,
            "duty" if acked else None, minutes[acked] if acked else None,
            "engineer" if ops == "assigned" else None, minutes[closed] if closed else None,
            json.dumps({"subdistrict": place or ""}),
        )  # fmt: skip
        steps: list[tuple[str, str, str, datetime, str | None]] = [
            ("pending", "inactive", "pending", pending, None)
        ]
        if fired:
            steps.append(("firing", "pending", "firing", minutes[fired], None))
        if acked:
            steps.append(("acknowledged", "firing", "firing", minutes[acked], "duty"))
        if closed:
            steps.append(("resolved", "firing", "resolved", minutes[closed], None))
            steps.append(("closed", "resolved", "resolved", minutes[closed], "duty"))
        for what, before, after, at, actor in steps:
            await conn.execute(
                _TRANSITION, fingerprint, rule, at, what, before, after, grade, 1.0, actor
            )
