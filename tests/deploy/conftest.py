"""Fixtures for the deployment tests: the shipped broker configuration, secured."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.secured_broker import SecuredBroker, start_secured_broker


@pytest.fixture(scope="module")
def secured() -> Iterator[SecuredBroker]:
    base = Path(tempfile.mkdtemp(prefix="cv-test-secured-mqtt-"))
    base.chmod(0o755)
    started = start_secured_broker(base)
    yield started
    started.broker.stop()
    shutil.rmtree(base, ignore_errors=True)
