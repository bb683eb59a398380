"""/healthz repeats the demo's backfill state as `history` (the console's wall says that the
history is being filled); without a state file, or with one it cannot read, the field is absent
and health is unaffected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from cityvitals.configs import gateway_config
from cityvitals.settings import Settings
from gateway.app import create_app


@pytest.fixture
async def healthz(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = replace(gateway_config(settings), history_state_path=tmp_path / "backfill.json")
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def _health(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.get("/healthz")
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def test_healthz_says_whether_the_demos_history_is_being_filled(
    healthz: httpx.AsyncClient, tmp_path: Path
) -> None:
    state_file = tmp_path / "backfill.json"
    assert await _health(healthz) == {"status": "ok"}  # not written yet
    for state in ("filling", "done"):
        state_file.write_text(json.dumps({"state": state, "since": "2026-06-01T06:00:00+00:00"}))
        assert await _health(healthz) == {"status": "ok", "history": state}
    for garbled in ("{not json", '["done"]', '{"state": "half"}'):
        state_file.write_text(garbled)
        assert await _health(healthz) == {"status": "ok"}
