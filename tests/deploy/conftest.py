"""Fixtures for the deployment tests: the shipped broker configuration, secured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.secured_broker import SecuredBroker, secured_broker


@pytest.fixture(scope="module")
def secured() -> Iterator[SecuredBroker]:
    with secured_broker() as started:
        yield started
