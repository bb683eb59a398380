"""Fixtures for ingest tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from tests.harness import ScratchDatabase
from tests.ingest.processes import IngestProcess
from tests.ingest.traffic import ingest_settings


@pytest.fixture
def settings(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> Settings:
    return ingest_settings(prepared.url, mqtt_broker.url)


@pytest.fixture
async def spawn_ingest() -> AsyncIterator[Callable[[dict[str, str]], IngestProcess]]:
    """`cityvitals ingest` processes with this environment; killed after the test, however
    it ended, so a failing test leaves no worker behind."""
    spawned: list[IngestProcess] = []

    def spawn(env: dict[str, str]) -> IngestProcess:
        spawned.append(IngestProcess(env))
        return spawned[-1]

    yield spawn
    for process in spawned:
        await process.close()
