"""Types and helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from storage.backend import Backend


@dataclass(frozen=True)
class ScratchDatabase:
    """A fresh database made for one test, on the backend the test is parametrized with."""

    url: str
    backend: Backend


def backend_param(backend: Backend) -> Any:
    """One value of the `empty_database` fixture; TimescaleDB's carries the `timescaledb` mark
    (`pytest -m timescaledb` selects those variants)."""
    marks = [pytest.mark.timescaledb] if backend is Backend.TIMESCALEDB else []
    return pytest.param(backend, id=backend.value, marks=marks)


def only_on(backend: Backend) -> pytest.MarkDecorator:
    """A test that applies to one backend is generated for that one only, never skipped on the
    other: it overrides the `empty_database` fixture's parameters (and with them `conn`,
    `prepared`, `pool`, which are built on it)."""
    return pytest.mark.parametrize("empty_database", [backend_param(backend)], indirect=True)


POSTGRES_ONLY = only_on(Backend.POSTGRES)
TIMESCALEDB_ONLY = only_on(Backend.TIMESCALEDB)
