"""Waiting for a running engine's ticks: the positive event that shows something did not happen.

To show that a tick changes nothing (a second message, a retired alert), wait until the engine
has completed more ticks and then assert: whatever those ticks would have done is done by then.
Ticks are counted on the engine's own metrics (the tick histogram's count), not guessed from the
clock.
"""

from __future__ import annotations

from alerts.engine.metrics import AlertMetrics
from tests.waiting import wait_until

TICKS = "cityvitals_alerts_tick_seconds_count"


def ticks_done(metrics: AlertMetrics) -> int:
    return int(metrics.registry.get_sample_value(TICKS) or 0)


async def more_ticks(metrics: AlertMetrics, count: int, timeout_s: float = 60.0) -> None:
    """Return once the engine has completed `count` more ticks than it had when called."""
    target = ticks_done(metrics) + count

    async def done() -> bool:
        return ticks_done(metrics) >= target

    await wait_until(done, timeout_s)
