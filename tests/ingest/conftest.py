"""Fixtures for ingest tests."""

from __future__ import annotations

import pytest

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings
from tests.harness import ScratchDatabase
from tests.ingest.traffic import ingest_settings


@pytest.fixture
def settings(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> Settings:
    return ingest_settings(prepared.url, mqtt_broker.url)
