"""Simulators: messages/s one process sends at `--rate max` (QoS 1, acknowledged by the broker)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Figure
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import load_settings
from cityvitals.simulate import CityPlan, build_city, publish_city
from schemas.geography import load_geography
from schemas.registry import load_registry

SENSORS = 20_000
MESSAGES = 100_000


def run() -> list[Figure]:
    registry = load_registry()
    geography = load_geography()
    start = datetime.now(UTC) - timedelta(days=2)
    simulation = build_city(registry, geography, CityPlan(sensors=SENSORS, seed=7), start)

    began = time.perf_counter()
    generated = sum(1 for _ in itertools.islice(simulation.run(start), MESSAGES))
    generation_rate = generated / (time.perf_counter() - began)

    base = Path(tempfile.mkdtemp(prefix="cv-bench-sim-"))
    broker = EmbeddedMosquitto(base, anonymous=True)  # the simulator, not broker logins
    broker.start()
    try:
        settings = load_settings(mqtt_url=broker.url)
        # Enough simulated time for MESSAGES messages: the fleet's rate times the span.
        per_second = sum(1 / s.interval_s for s in simulation.fleet)
        end = start + timedelta(seconds=MESSAGES / per_second)
        began = time.perf_counter()
        stats = publish_city(
            settings,
            build_city(registry, geography, CityPlan(sensors=SENSORS, seed=7), start),
            start=start,
            end=end,
            speed=None,
            stop=threading.Event(),
        )
        # Births, traffic, and the wait for the broker's last acknowledgement.
        sent = stats.messages + len(simulation.fleet)
        publish_rate = sent / (time.perf_counter() - began)
    finally:
        broker.stop()
        shutil.rmtree(base, ignore_errors=True)
    return [
        Figure(
            "simulators.max_rate.msgs_per_s",
            publish_rate,
            "msg/s",
            f"{sent:,} QoS 1 msgs acked, {SENSORS:,} sensors, one process",
        ),
        Figure(
            "simulators.generate.msgs_per_s", generation_rate, "msg/s", "payloads only, no MQTT"
        ),
    ]
