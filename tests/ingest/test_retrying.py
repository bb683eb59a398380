"""The retry helper: waits out failures, logs an outage as two lines, stops when asked."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ingest.retrying import Stopped, until_done

log = logging.getLogger("tests.retrying")


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


async def test_an_outage_is_two_log_lines_however_many_tries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    action = Flaky(25, ConnectionError("database unavailable"))
    retries: list[int] = []
    with caplog.at_level(logging.DEBUG, logger="tests.retrying"):
        result = await until_done(
            action,
            what="committing a batch",
            retry_on=ConnectionError,
            log=log,
            first_wait_s=0.0001,
            max_wait_s=0.001,
            on_retry=lambda: retries.append(1),
        )
    assert result == "done"
    assert action.calls == 26
    assert len(retries) == 25
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.retrying"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("committing a batch failed: database unavailable; retrying")
    assert lines[1].startswith("committing a batch succeeded again after")
    assert lines[1].endswith("and 26 tries")
    # No traceback in either line.
    assert all(r.exc_info is None for r in caplog.records)


async def test_other_errors_are_not_retried() -> None:
    action = Flaky(1, ValueError("bad data"))
    with pytest.raises(ValueError, match="bad data"):
        await until_done(action, what="x", retry_on=ConnectionError, log=log)
    assert action.calls == 1


async def test_a_stop_ends_the_wait_between_tries() -> None:
    stopping = asyncio.Event()
    calls = 0

    async def broker_down() -> None:
        nonlocal calls
        calls += 1
        stopping.set()  # the service is told to stop while the broker is away
        raise ConnectionError("broker down")

    with pytest.raises(Stopped):
        # An hour between tries: only the stop can end the wait.
        await until_done(
            broker_down,
            what="connecting",
            retry_on=ConnectionError,
            log=log,
            first_wait_s=3600,
            max_wait_s=3600,
            stopping=stopping,
        )
    assert calls == 1
