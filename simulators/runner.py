"""When simulated messages are sent: real time, accelerated, or as fast as possible."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from simulators.engine import SimMessage, Simulation


@dataclass
class RunStats:
    messages: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def rate(self) -> float:
        elapsed = self.finished_at - self.started_at
        return self.messages / elapsed if elapsed > 0 else 0.0


def drive(
    simulation: Simulation,
    send: Callable[[SimMessage], None],
    *,
    start: datetime,
    end: datetime | None = None,
    speed: float | None = None,
    stop: threading.Event | None = None,
    anchor: float | None = None,
    clock: Callable[[], float] = time.time,
    on_caught_up: Callable[[], object] | None = None,
) -> RunStats:
    """Send the simulation's messages from `start` to `end`.

    `speed` None sends as fast as possible (backfill, load tests); 1.0 is real time; 60 runs an
    hour a minute. With a speed, a message simulated at `at` leaves at
    wall start + (at - start) / speed. `anchor` pins simulated `start` to that wall time instead
    of now: with `anchor=start.timestamp()` and speed 1, a start in the past is caught up as fast
    as possible (backfill) and the run then continues in real time. `on_caught_up` is called
    once, when the first message has to wait for its time: the backfill is done.
    """
    stop = stop or threading.Event()
    stats = RunStats(started_at=clock())
    origin = start.timestamp()
    wall_origin = stats.started_at if anchor is None else anchor
    for message in simulation.run(start, end):
        if speed is not None:
            delay = wall_origin + (message.at - origin) / speed - clock()
            if delay > 0 and on_caught_up is not None:
                on_caught_up()
                on_caught_up = None
            if delay > 0 and stop.wait(delay):
                break
        if stop.is_set():
            break
        send(message)
        stats.messages += 1
    stats.finished_at = clock()
    return stats
