"""Types and helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.backend import Backend


@dataclass(frozen=True)
class ScratchDatabase:
    """A fresh database made for one test, on the backend the test is parametrized with."""

    url: str
    backend: Backend
