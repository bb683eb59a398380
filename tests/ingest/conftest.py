"""Fixtures for ingest tests."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.registry import Registry
from storage.backend import Backend
from tests.harness import ScratchDatabase
from tests.ingest.traffic import ingest_settings


@pytest.fixture
def settings(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> Settings:
    return ingest_settings(prepared.url, mqtt_broker.url)


@pytest.fixture
def service_factory(
    prepared: ScratchDatabase, registry: Registry
) -> Callable[[Settings, asyncpg.Pool], IngestService]:
    def build(settings: Settings, pool: asyncpg.Pool) -> IngestService:
        return IngestService(settings, pool, Backend(prepared.backend), registry)

    return build
