"""`drive` says when a run that started in the past has caught up with the present (the demo's
backfill is done), once; a run at full speed never waits, so never says it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from cityvitals.simulate import CityPlan, build_city
from schemas.geography import load_geography
from schemas.registry import SENSOR_TYPES_DIR, load_registry
from simulators.engine import SimMessage, Simulation
from simulators.runner import drive

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _city(start: datetime) -> Simulation:
    registry, geography = load_registry(SENSOR_TYPES_DIR), load_geography()
    return build_city(registry, geography, CityPlan(sensors=40, seed=3), start)


def test_a_backfill_says_once_when_it_reaches_the_present() -> None:
    start = NOW - timedelta(minutes=10)
    sent: list[SimMessage] = []
    stop = threading.Event()
    calls: list[int] = []

    def caught_up() -> None:
        calls.append(len(sent))
        stop.set()  # the first message that would wait ends this run at once

    stats = drive(
        _city(start),
        sent.append,
        start=start,
        speed=1.0,
        stop=stop,
        anchor=start.timestamp(),
        clock=NOW.timestamp,  # the present stands still: every later message must wait
        on_caught_up=caught_up,
    )
    assert calls == [stats.messages]  # once, after the history was sent
    assert stats.messages > 40
    assert max(message.at for message in sent) <= NOW.timestamp()


def test_a_run_at_full_speed_never_waits_so_never_says_it() -> None:
    start = NOW - timedelta(minutes=5)
    calls: list[None] = []
    stats = drive(
        _city(start),
        lambda _: None,
        start=start,
        end=NOW,
        clock=NOW.timestamp,
        on_caught_up=lambda: calls.append(None),
    )
    assert stats.messages > 0
    assert calls == []
