"""Ingest decode path: topic parse + payload decode + type resolution + per-type checks, in µs.

This is the CPU the ingest spends per message before batching for the database; the target of
20k+ messages/s on one core leaves ~50 µs per message for everything, MQTT included. Each figure
is the median of several runs over the same messages (the topic cache is warm, as in production).

`decode.readings_per_s` and `decode.converting.readings_per_s` compare the same five-metric
reports of an indoor-environment sensor sent plainly and the way real devices send them: three
metrics under an alias, one in another unit (mg/m3 for a µg/m3 metric). The runs alternate, so
a busy machine slows both alike, and each figure is the best of its runs; converting must stay
within 10 % of plain. A {value, unit}
object costs about 0.35 µs more than a plain number, half of it orjson parsing the object.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import orjson

from bench.report import Figure, print_table
from schemas.registry import Registry, load_registry
from schemas.sensor_type import SensorType
from schemas.telemetry import Rejection, decode_payload
from schemas.topics import parse_topic, resolve_validator, telemetry_topic
from schemas.type_validator import TypeValidator, validators_for

SINGLE_MESSAGES = 20_000
BATCH_MESSAGES = 400
BATCH_REPORTS = 100
RUNS = 5
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)
SENSORS = 200


def _messages(start_ms: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Single-reading messages from many sensors, and 100-report gateway batches."""
    topics = [telemetry_topic("water", "yinhang", f"WP-{n:04d}") for n in range(SENSORS)]
    single = [
        (
            topics[n % SENSORS],
            orjson.dumps({"ts": start_ms + n, "seq": n, "metrics": {"pressure": 0.31}}),
        )
        for n in range(SINGLE_MESSAGES)
    ]
    batch = [
        (
            topics[n % SENSORS],
            orjson.dumps(
                [
                    {"ts": start_ms + 1000 * i, "seq": i, "metrics": {"pressure": 0.3 + i / 1e4}}
                    for i in range(BATCH_REPORTS)
                ]
            ),
        )
        for n in range(BATCH_MESSAGES)
    ]
    return single, batch


def _ingest(
    messages: list[tuple[str, bytes]],
    validators: dict[str, TypeValidator],
    registered: dict[str, str],
) -> int:
    """What the ingest does per message; returns the readings accepted."""
    accepted = 0
    for topic_text, data in messages:
        now = datetime.now(UTC)
        topic = parse_topic(topic_text)
        results = decode_payload(data)
        batched = len(results) > 1
        for index, report in results:
            if isinstance(report, Rejection):
                continue
            prefix = f"[{index}]." if batched else ""
            validator = resolve_validator(
                topic,
                report,
                validators,
                registered_type=registered.get(topic.sensor_id),
                allow_unregistered=False,
                field_prefix=prefix,
            )
            if isinstance(validator, Rejection):
                continue
            good, _ = validator.check(
                report, now=now, max_future=MAX_FUTURE, max_age=MAX_AGE, field_prefix=prefix
            )
            accepted += len(good)
    return accepted


def _median_us(
    messages: list[tuple[str, bytes]],
    validators: dict[str, TypeValidator],
    registered: dict[str, str],
    per: int,
    runs: int = RUNS,
) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        accepted = _ingest(messages, validators, registered)
        elapsed = time.perf_counter() - began
        if accepted != len(messages) * per:
            raise RuntimeError(f"only {accepted} of {len(messages) * per} readings accepted")
        timings.append(elapsed / (len(messages) * per) * 1e6)
    return statistics.median(timings)


MIX_MESSAGES = 10_000
MIX_READINGS = 5
MIX_RUNS = 7
ALIASES = {"temperature": ["temp"], "humidity": ["relativeHumidity"], "pm25": ["PM2.5"]}


def _with_aliases(registry: Registry) -> dict[str, TypeValidator]:
    """The shipped indoor-environment type, with the names its devices send as aliases."""
    document = registry.types["indoor_environment"].model_dump(mode="json", exclude_none=True)
    for metric, aliases in ALIASES.items():
        document["metrics"][metric]["aliases"] = aliases
    return {"indoor_environment": TypeValidator(SensorType.model_validate(document))}


def _mix(start_ms: int, converting: bool) -> list[tuple[str, bytes]]:
    topics = [telemetry_topic("buildings", "wujiaochang", f"IE-{n:04d}") for n in range(SENSORS)]
    messages = []
    for n in range(MIX_MESSAGES):
        humidity = 40 + n % 30 + 0.25
        if converting:
            metrics: dict[str, object] = {
                "temp": 21.5 + n % 7 / 10,
                "relativeHumidity": humidity,
                "co2": 600 + n % 400,
                "PM2.5": 20 + n % 50,
                "pm10": {"value": (40 + n % 80) / 1000, "unit": "mg/m3"},
            }
        else:
            metrics = {
                "temperature": 21.5 + n % 7 / 10,
                "humidity": humidity,
                "co2": 600 + n % 400,
                "pm25": 20 + n % 50,
                "pm10": 40 + n % 80,
            }
        report = {"ts": start_ms + n, "seq": n, "metrics": metrics}
        messages.append((topics[n % SENSORS], orjson.dumps(report)))
    return messages


def _mix_figures(start_ms: int) -> list[Figure]:
    validators = _with_aliases(load_registry())
    registered = {f"IE-{n:04d}": "indoor_environment" for n in range(SENSORS)}
    plain, converting = _mix(start_ms, False), _mix(start_ms, True)
    _ingest(plain[:1000], validators, registered)  # warm the topic cache
    plain_runs, converting_runs = [], []
    for _ in range(MIX_RUNS):  # alternating, so both see the same machine
        plain_runs.append(_median_us(plain, validators, registered, MIX_READINGS, runs=1))
        converting_runs.append(_median_us(converting, validators, registered, MIX_READINGS, runs=1))
    # The best of each: on a shared machine the slower runs measure the neighbours.
    plain_per_s = 1e6 / min(plain_runs)
    converting_per_s = 1e6 / min(converting_runs)
    ratio = converting_per_s / plain_per_s
    return [
        Figure(
            "decode.readings_per_s",
            plain_per_s,
            "/s",
            f"{MIX_READINGS}-metric reports, metric names and declared units",
        ),
        Figure(
            "decode.converting.readings_per_s",
            converting_per_s,
            "/s",
            f"same reports with 3 aliases and 1 unit conversion: {ratio:.2f} of plain "
            "(at least 0.90)",
        ),
    ]


def run() -> list[Figure]:
    validators = validators_for(load_registry())
    registered = {f"WP-{n:04d}": "water_main_pressure" for n in range(SENSORS)}
    start_ms = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    single, batch = _messages(start_ms)
    _ingest(single[:1000], validators, registered)  # warm the topic cache
    single_us = _median_us(single, validators, registered, 1)
    batch_us = _median_us(batch, validators, registered, BATCH_REPORTS)
    return [
        *_mix_figures(start_ms),
        Figure(
            "ingest.decode.single_us_per_msg",
            single_us,
            "µs",
            f"{1e6 / single_us:,.0f} msg/s on one core, one reading each",
        ),
        Figure(
            "ingest.decode.batched_us_per_reading",
            batch_us,
            "µs",
            f"{BATCH_REPORTS}-report arrays; {1e6 / batch_us:,.0f} readings/s",
        ),
    ]


if __name__ == "__main__":
    print_table(run())
