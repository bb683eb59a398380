"""Bad input never stops the pipe: every malformed message is dead-lettered with its reason."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from bench.mqtt_load import Message
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.inventory import Inventory
from schemas.topics import telemetry_topic
from tests.harness import ScratchDatabase
from tests.ingest.traffic import (
    count_readings,
    ingest_settings,
    pressure_messages,
    publish,
    running,
    start_time,
)
from tests.waiting import wait_until

NOW_MS = int(datetime.now(UTC).timestamp() * 1000)


def _malformed(inventory: Inventory) -> list[tuple[str, Message]]:
    """(expected reason, message) for 16 kinds of mistakes, on a real water-pressure sensor."""
    sensor = next(s for s in inventory if s.type == "water_main_pressure")
    topic = telemetry_topic("water", sensor.subdistrict, sensor.id)

    def body(**fields: object) -> bytes:
        return orjson.dumps({"ts": NOW_MS - 60_000, "metrics": {"pressure": 0.3}} | fields)

    future = NOW_MS + 86_400_000
    return [
        ("bad_json", (topic, b'{"ts": 1, "metrics": {')),
        ("bad_utf8", (topic, b'{"ts": "\xff\xfe"}')),
        ("oversized", (topic, b'{"pad": "' + b"x" * 70_000 + b'"}')),
        ("bad_shape", (topic, b"[1, 2, 3]")),
        ("missing_field", (topic, orjson.dumps({"metrics": {"pressure": 0.3}}))),
        ("bad_timestamp", (topic, body(ts="yesterday at noon"))),
        ("future_timestamp", (topic, body(ts=future))),
        ("too_old", (topic, body(ts=NOW_MS // 1000))),
        ("unknown_metric", (topic, body(metrics={"presure": 0.3}))),
        ("wrong_value_type", (topic, body(metrics={"pressure": "0.3"}))),
        ("out_of_range", (topic, body(metrics={"pressure": 9.9}))),
        ("wrong_unit", (topic, body(metrics={"pressure": {"value": 300, "unit": "°C"}}))),
        ("bad_seq", (topic, body(seq=-1))),
        ("unknown_sensor", (telemetry_topic("water", sensor.subdistrict, "nobody-01"), body())),
        ("bad_topic", ("city/v1/water/pudong/x-1/telemetry", body())),
        ("domain_mismatch", (telemetry_topic("power", sensor.subdistrict, sensor.id), body())),
    ]


async def test_1000_malformed_messages_in_a_good_stream(
    prepared: ScratchDatabase,
    settings: Settings,
    pool: asyncpg.Pool,
    inventory: Inventory,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    kinds = _malformed(inventory)
    rng = random.Random(3)
    bad = [kinds[i % len(kinds)] for i in range(1_000)]
    good = pressure_messages(inventory, 5_000, start_time())
    stream: list[tuple[str | None, Message]] = [(None, m) for m in good] + list(bad)
    rng.shuffle(stream)
    async with running(service_factory(settings, pool)) as service:
        await publish(settings.mqtt_url, [message for _, message in stream])

        async def all_handled() -> bool:
            letters = await pool.fetchval("SELECT coalesce(sum(repeats), 0) FROM dead_letters")
            return letters >= 1_000 and await count_readings(prepared.url) >= 5_000

        await wait_until(all_handled)
        # Still alive: a good message sent after all that is stored too.
        late = pressure_messages(inventory, 1, start_time() + timedelta(minutes=5))
        await publish(settings.mqtt_url, late)

        async def late_stored() -> bool:
            return await count_readings(prepared.url) == 5_001

        await wait_until(late_stored)

    rows = await pool.fetch(
        "SELECT reason, field, detail, payload, topic, repeats FROM dead_letters"
    )
    # Every message is accounted for: the same bytes sent again are one letter with repeats.
    assert sum(r["repeats"] for r in rows) == 1_000
    assert len(rows) == len(kinds)
    received = Counter({r["reason"]: r["repeats"] for r in rows})
    assert received == Counter(reason for reason, _ in bad)
    assert len({reason for reason, _ in bad}) >= 10
    # Raw bytes are kept exactly, and each reason names its field.
    sent = Counter((topic, payload) for _, (topic, payload) in bad)
    assert Counter({(r["topic"], bytes(r["payload"])): r["repeats"] for r in rows}) == sent
    by_reason = {r["reason"]: r for r in rows}
    assert by_reason["out_of_range"]["field"] == "metrics.pressure"
    assert "[0, 1.6] MPa" in by_reason["out_of_range"]["detail"]
    assert by_reason["wrong_unit"]["field"] == "metrics.pressure"
    assert by_reason["unknown_metric"]["field"] == "metrics.presure"
    assert by_reason["bad_seq"]["field"] == "seq"
    dead = service.metrics.dead_letters
    assert sum(dead.labels(reason)._value.get() for reason, _ in kinds) == 1_000


async def test_auto_register_policy_adds_unknown_sensors_of_known_types(
    prepared: ScratchDatabase,
    mqtt_broker: object,
    pool: asyncpg.Pool,
    service_factory: Callable[[Settings, asyncpg.Pool], IngestService],
) -> None:
    from cityvitals.embedded import EmbeddedMosquitto

    assert isinstance(mqtt_broker, EmbeddedMosquitto)
    settings = ingest_settings(prepared.url, mqtt_broker.url, "auto_register")
    sensor = f"new-{uuid.uuid4().hex[:6]}"
    body = {"ts": NOW_MS - 1000, "type": "parking_lot_counter", "metrics": {"occupancy": 40.5}}
    untyped = {"ts": NOW_MS - 1000, "metrics": {"occupancy": 40.5}}
    async with running(service_factory(settings, pool)):
        await publish(
            settings.mqtt_url,
            [
                (telemetry_topic("parking", "wujiaochang", sensor), orjson.dumps(body)),
                (telemetry_topic("parking", "wujiaochang", "anon-1"), orjson.dumps(untyped)),
            ],
        )

        async def handled() -> bool:
            stored = await count_readings(prepared.url)
            letters = await pool.fetchval("SELECT count(*) FROM dead_letters")
            return stored == 1 and letters == 1

        await wait_until(handled)
    row = await pool.fetchrow(
        "SELECT s.origin, d.code FROM sensors s JOIN subdistricts d ON d.id = s.subdistrict_id "
        "WHERE s.external_id = $1",
        sensor,
    )
    assert row is not None
    assert (row["origin"], row["code"]) == ("auto_register", "wujiaochang")
    letter = await pool.fetchrow("SELECT reason, field FROM dead_letters")
    assert letter is not None
    assert (letter["reason"], letter["field"]) == ("unknown_sensor", "type")
