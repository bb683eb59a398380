"""The engine's tick against a real PostgreSQL and a real HTTP receiver, with time stepped.

Readings are written with the storage writer (the ingest path is tested end to end elsewhere);
the engine reads them back by their timestamps, so stepping `now` through a stored history is
exactly what the service does in real time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from alerts.engine import ops
from alerts.engine.core import EngineCore
from alerts.engine.outbox import Outbox
from alerts.notify.receivers import Routing, parse_routing
from alerts.rules.files import RULES_DIR, load_rule_files
from schemas.registry import Registry
from storage.backend import Backend
from storage.catalog import load_catalog, register_sensor
from storage.writer import ReadingWriter
from tests.alerts.local_receiver import (
    SECRET,
    LocalReceiver,
    idempotency_key_of,
    our_signature_holds,
    running_receiver,
)
from tests.harness import ScratchDatabase

MINUTE = timedelta(minutes=1)
PRESSURE_RULE = "default:water_main_pressure:pressure:below"


def routing_for(receiver: LocalReceiver, extra: str = "") -> Routing:
    text = f"""
receivers:
  - {{name: duty, kind: webhook, url: "{receiver.url()}", secret_env: DUTY_SECRET, timeout: 2s}}
  - {{name: lead, kind: webhook, url: "{receiver.url("/lead")}", secret_env: DUTY_SECRET}}
default_receiver: duty
group_interval: 1m
allow_local_urls: true  # the test's receiver listens on 127.0.0.1
{extra}
"""
    return parse_routing(text, "receivers.yaml", {"DUTY_SECRET": SECRET})


@dataclass
class City:
    """Writes readings of named inventory sensors."""

    pool: asyncpg.Pool
    writer: ReadingWriter
    sensor_ids: dict[str, int]
    metric_ids: dict[tuple[str, str], int]
    types: dict[str, str]

    async def write(self, sensor: str, metric: str, ts: datetime, value: float) -> None:
        metric_id = self.metric_ids[(self.types[sensor], metric)]
        await self.writer.write([(ts, self.sensor_ids[sensor], metric_id, value)])

    async def series(self, sensor: str, metric: str, start: datetime, values: list[float]) -> None:
        for i, value in enumerate(values):
            await self.write(sensor, metric, start + i * MINUTE, value)


@pytest.fixture
async def city(prepared: ScratchDatabase, pool: asyncpg.Pool) -> City:
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    return City(
        pool,
        ReadingWriter(pool, Backend(prepared.backend)),
        {s: ref.id for s, ref in catalog.sensors.items()},
        dict(catalog.metric_ids),
        {s: ref.type_name for s, ref in catalog.sensors.items()},
    )


@pytest.fixture
async def receiver() -> AsyncIterator[LocalReceiver]:
    async with running_receiver(our_signature_holds) as local:
        yield local


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def engine(registry: Registry, routing: Routing | None, rules_dir: Path = RULES_DIR) -> EngineCore:
    return EngineCore(registry, load_rule_files(registry, rules_dir), routing)


async def run(
    core: EngineCore, conn: asyncpg.Connection, start: datetime, end: datetime, step: timedelta
) -> list[str]:
    """Tick from `start` to `end` inclusive; the transition kinds seen, in order."""
    kinds: list[str] = []
    now = start
    while now <= end:
        report = await core.tick(conn, now)
        kinds += [f"{t.kind}:{rule}" for rule, t in report.transitions]
        now += step
    return kinds


async def test_hold_then_fire_and_one_signed_message(
    city: City,
    conn: asyncpg.Connection,
    registry: Registry,
    receiver: LocalReceiver,
    http: httpx.AsyncClient,
    now: datetime,
) -> None:
    t0 = now - timedelta(hours=1)
    await city.series("yp-wp-0004", "pressure", t0, [0.30, 0.30, 0.18, 0.18, 0.18, 0.18, 0.18])
    core = engine(registry, routing_for(receiver))
    await core.resume(conn, t0)
    breach = t0 + 2 * MINUTE
    kinds = await run(core, conn, t0, breach + 4 * MINUTE, timedelta(seconds=30))
    pressure = [k for k in kinds if k.endswith(PRESSURE_RULE)]
    assert pressure == [f"pending:{PRESSURE_RULE}", f"firing:{PRESSURE_RULE}"]
    row = await conn.fetchrow("SELECT * FROM alerts WHERE rule_id = $1", PRESSURE_RULE)
    assert row["phase"] == "firing"
    assert row["grade"] == "yellow"
    assert row["pending_since"] == breach
    assert row["firing_since"] == breach + 2 * MINUTE  # hold 2m, exactly
    # The fall from 0.30 to 0.18 in a minute also trips the shipped fast-drop rule.
    fired = {k.split(":", 1)[1] for k in kinds if k.startswith("firing:")}
    assert fired == {PRESSURE_RULE, "water_pressure_fast_drop"}
    sent = await Outbox(city.pool, http).deliver_due(core.routing)
    assert sent == 2
    assert len(receiver.seen) == 2  # one message per (rule, subdistrict) group
    names = set()
    for seen in receiver.seen:
        message = json.loads(seen.body)
        assert message["status"] == "firing"
        assert message["version"] == "4"
        (alert,) = message["alerts"]
        assert alert["labels"]["sensor"] == "yp-wp-0004"
        names.add(alert["labels"]["alertname"])
    assert names == fired
    states = [r["state"] for r in await conn.fetch("SELECT state FROM notifications")]
    assert states == ["delivered", "delivered"]  # 2xx from a receiver checking the signature


async def test_a_restarted_engine_keeps_the_pending_timer(
    city: City, conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    t0 = now - timedelta(hours=1)
    await city.series("yp-wp-0004", "pressure", t0, [0.18] * 6)
    first = engine(registry, None)
    await first.resume(conn, t0)
    assert "pending" in " ".join(await run(first, conn, t0, t0 + MINUTE, timedelta(seconds=30)))
    second = engine(registry, None)  # "killed": the first is simply gone, nothing shut down
    await second.resume(conn, t0 + 90 * timedelta(seconds=1))
    kinds = await run(second, conn, t0 + 90 * timedelta(seconds=1), t0 + 3 * MINUTE, MINUTE / 4)
    assert kinds == [f"firing:{PRESSURE_RULE}"]
    fired = await conn.fetchval("SELECT firing_since FROM alerts WHERE rule_id = $1", PRESSURE_RULE)
    assert fired == t0 + 2 * MINUTE


async def test_a_burst_in_one_subdistrict_is_one_message(
    city: City,
    conn: asyncpg.Connection,
    registry: Registry,
    receiver: LocalReceiver,
    http: httpx.AsyncClient,
    now: datetime,
) -> None:
    t0 = now - timedelta(hours=1)
    catalog = await load_catalog(conn)
    gauges = [f"yp-wp-9{n:03d}" for n in range(40)]
    for gauge in gauges:
        ref = await register_sensor(conn, catalog, gauge, "water_main_pressure", "jiangpu_road")
        city.sensor_ids[gauge], city.types[gauge] = ref.id, "water_main_pressure"
        await city.series(gauge, "pressure", t0, [0.15] * 8)  # orange: below 0.16
    core = engine(registry, routing_for(receiver))
    await core.resume(conn, t0)
    await run(core, conn, t0, t0 + 6 * MINUTE, timedelta(seconds=30))
    await Outbox(city.pool, http).deliver_due(core.routing)
    messages = [json.loads(s.body) for s in receiver.seen]
    # The district-wide minimum-pressure vital sign fires too (0.15 < red 0.16 for 5 min).
    assert sorted(m["groupLabels"]["alertname"] for m in messages) == [
        PRESSURE_RULE,
        "water_pressure_district_minimum",
    ]
    (message,) = [m for m in messages if m["groupLabels"]["alertname"] == PRESSURE_RULE]
    assert message["groupLabels"] == {"alertname": PRESSURE_RULE, "subdistrict": "jiangpu_road"}
    assert sorted(a["labels"]["sensor"] for a in message["alerts"]) == gauges
    assert {a["labels"]["grade"] for a in message["alerts"]} == {"orange"}


async def test_silence_holds_back_notifications_but_not_state(
    city: City,
    conn: asyncpg.Connection,
    registry: Registry,
    receiver: LocalReceiver,
    now: datetime,
) -> None:
    t0 = now - timedelta(hours=1)
    await city.series("yp-wp-0004", "pressure", t0, [0.18] * 6)
    await ops.create_silence(
        conn,
        ops.SilenceRequest(
            ["subdistrict=jiangpu_road"], t0 - MINUTE, t0 + timedelta(hours=2), "duty", "works"
        ),
    )
    core = engine(registry, routing_for(receiver))
    await core.resume(conn, t0)
    kinds = await run(core, conn, t0, t0 + 4 * MINUTE, timedelta(seconds=30))
    assert f"firing:{PRESSURE_RULE}" in kinds
    assert await conn.fetchval("SELECT count(*) FROM notifications") == 0


async def test_escalation_goes_to_the_next_receiver_until_acknowledged(
    city: City,
    conn: asyncpg.Connection,
    registry: Registry,
    receiver: LocalReceiver,
    now: datetime,
) -> None:
    t0 = now - timedelta(hours=1)
    await city.series("yp-wp-0004", "pressure", t0, [0.14] * 30)  # orange
    routes = """
routes:
  - receiver: duty
    domains: [water]
    labels: {scope: sensor}  # the district-wide minimum fires too; keep it out of this test
    escalate: {after: 10m, to: lead}
"""
    core = engine(registry, routing_for(receiver, routes))
    await core.resume(conn, t0)
    await run(core, conn, t0, t0 + 13 * MINUTE, MINUTE)
    kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM notifications ORDER BY id")]
    assert kinds.count("escalation") == 1
    receivers = await conn.fetch("SELECT receiver FROM notifications WHERE kind = 'escalation'")
    assert [r["receiver"] for r in receivers] == ["lead"]
    # A second alert, acknowledged in time, never escalates.
    await city.series("yp-wp-0003", "pressure", t0 + 14 * MINUTE, [0.14] * 15)
    await run(core, conn, t0 + 14 * MINUTE, t0 + 17 * MINUTE, MINUTE)
    fingerprint = await conn.fetchval(
        "SELECT fingerprint FROM alerts WHERE subject_id = 'yp-wp-0003' AND phase = 'firing'"
    )
    await ops.acknowledge(conn, fingerprint, "王值班", "crew on the way", t0 + 17 * MINUTE)
    await run(core, conn, t0 + 18 * MINUTE, t0 + 29 * MINUTE, MINUTE)
    escalations = await conn.fetchval("SELECT count(*) FROM notifications WHERE kind='escalation'")
    assert escalations == 1
    assert receiver.seen == []  # nothing delivered in this test: the outbox did not run


async def test_receiver_down_then_back_gets_every_message_with_its_key(
    city: City,
    conn: asyncpg.Connection,
    registry: Registry,
    receiver: LocalReceiver,
    http: httpx.AsyncClient,
    now: datetime,
) -> None:
    t0 = now - timedelta(hours=1)
    await city.series("yp-wp-0004", "pressure", t0, [0.18] * 4 + [0.30] * 8)
    core = engine(registry, routing_for(receiver))
    await core.resume(conn, t0)
    await run(core, conn, t0, t0 + 11 * MINUTE, timedelta(seconds=30))
    keys = {r["idempotency_key"] for r in await conn.fetch("SELECT * FROM notifications")}
    assert len(keys) == 2  # firing, resolved
    clock = [datetime.now(now.tzinfo)]
    receiver.check = lambda seen: our_signature_holds(seen, clock[0])  # the receiver's clock
    outbox = Outbox(city.pool, http, clock=lambda: clock[0])
    down_until = clock[0] + 2 * MINUTE
    attempts = 0
    while clock[0] < down_until:  # down for two minutes: every attempt gets a 503
        receiver.replies.extend([(503, {}, b"down")] * 2)
        attempts += await outbox.deliver_due(core.routing)
        receiver.replies.clear()
        clock[0] += timedelta(seconds=5)
    assert attempts >= 4  # each retried more than once while it was down
    assert await conn.fetchval("SELECT count(*) FROM notifications WHERE state='pending'") == 2
    refused = len(receiver.seen)
    clock[0] += 5 * MINUTE  # back up, and past the longest backoff so far
    assert await outbox.deliver_due(core.routing) == 2
    delivered = [idempotency_key_of(s) for s in receiver.seen[refused:]]
    assert sorted(delivered) == sorted(keys)  # each once more, under its original key
    assert {idempotency_key_of(s) for s in receiver.seen[:refused]} == keys
    assert await conn.fetchval("SELECT count(*) FROM notifications WHERE state='delivered'") == 2


async def test_a_stuck_sensor_stays_stuck_across_a_restart(
    city: City, conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    t0 = now - timedelta(hours=3)
    await city.series("yp-wp-0004", "pressure", t0, [0.3] * 150)  # frozen for 2.5 h
    stuck = "water_pressure_stuck"
    first = engine(registry, None)
    await first.resume(conn, t0 + 125 * MINUTE)
    kinds = await run(first, conn, t0 + 125 * MINUTE, t0 + 126 * MINUTE, MINUTE)
    assert f"firing:{stuck}" in kinds
    second = engine(registry, None)
    await second.resume(conn, t0 + 127 * MINUTE)
    kinds = await run(second, conn, t0 + 127 * MINUTE, t0 + 130 * MINUTE, MINUTE)
    assert [k for k in kinds if k.endswith(stuck)] == []  # still firing, not resolved
    assert await conn.fetchval("SELECT phase FROM alerts WHERE rule_id = $1", stuck) == "firing"


async def test_sensors_registered_while_running_are_learned_once(
    city: City, conn: asyncpg.Connection, registry: Registry, now: datetime
) -> None:
    t0 = now - timedelta(hours=1)
    # An engine without rules for drain levels: their readings stay unknown to it.
    types = {name: t for name, t in registry.types.items() if name != "drain_level"}
    core = engine(Registry(types=types), None)
    await core.resume(conn, t0)
    await city.series("yp-dl-0001", "water_level", t0, [0.5] * 4)
    await run(core, conn, t0, t0 + MINUTE, MINUTE)
    known = core.city
    await run(core, conn, t0 + 2 * MINUTE, t0 + 3 * MINUTE, MINUTE)
    assert core.city is known  # unknown readings but an unchanged catalogue: no reload
    ref = await register_sensor(
        conn, await load_catalog(conn), "yp-wp-9999", "water_main_pressure", "jiangpu_road"
    )
    city.sensor_ids["yp-wp-9999"], city.types["yp-wp-9999"] = ref.id, "water_main_pressure"
    await city.series("yp-wp-9999", "pressure", t0 + 4 * MINUTE, [0.18])
    kinds = await run(core, conn, t0 + 4 * MINUTE, t0 + 4 * MINUTE, MINUTE)
    assert core.city is not known
    assert f"pending:{PRESSURE_RULE}" in kinds  # the new gauge's breach, in the same tick
