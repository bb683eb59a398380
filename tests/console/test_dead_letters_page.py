"""The dead-letter page (/console/dead-letters/) in headless Chromium against a real gateway,
PostgreSQL, Mosquitto and the MQTT ingest: bad payloads published over MQTT are listed by
reason with counts, a payload holding <script> is shown as text, an admin replays a letter
once its sensor is registered; an operator sees the letters but no replay button, a viewer
sees neither, and the API refuses both; Chinese and English complete; no request outside the
gateway."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from cityvitals.configs import ingest_config
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import load_settings
from ingest.service import IngestService
from schemas.telemetry import RejectReason
from schemas.topics import telemetry_topic
from storage.backend import Backend
from tests.console.conftest import SCREENSHOTS, Browsing, sign_in
from tests.console.test_labels import labels
from tests.console.test_wall import MISSING_LABEL
from tests.gateway.conftest import INVENTORY
from tests.gateway.serving import Served, serving
from tests.harness import ScratchDatabase
from tests.ingest.traffic import publish, running
from tests.waiting import wait_until

NEW_SENSOR = "yp-wp-0099"  # not in the inventory: its readings are set aside until registered
KNOWN_SENSOR = "yp-wp-0001"
HOSTILE = '<script>window.pwned = true</script><img src=x onerror="window.pwned = true">'


@pytest.fixture
async def listening(
    prepared: ScratchDatabase, pool: asyncpg.Pool, mqtt_broker: EmbeddedMosquitto
) -> AsyncIterator[Served]:
    """The gateway and the MQTT ingest on a prepared database (no engine, no history)."""
    settings = load_settings(
        database_url=prepared.url,
        mqtt_url=mqtt_broker.url,
        inventory_path=INVENTORY,
        ingest={"client_id": f"test-dead-{uuid.uuid4().hex[:8]}", "metrics_port": 0},
    )
    ingest = IngestService(ingest_config(settings), pool, Backend(prepared.backend))
    async with running(ingest), serving(settings) as gateway:
        yield gateway


def reading(pressure: float, offset_ms: int = 0) -> bytes:
    ts = int(datetime.now(UTC).timestamp() * 1000) - offset_ms
    return orjson.dumps({"ts": ts, "metrics": {"pressure": pressure}})


async def letters(gateway: Served) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=gateway.url) as api:
        answer = await api.get("/v1/dead-letters", headers={"X-API-Key": gateway.keys["operator"]})
    answer.raise_for_status()
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def set_aside(gateway: Served, mqtt_url: str) -> None:
    """Two readings of an unregistered sensor and one payload that is not JSON (a hostile one),
    over MQTT as devices send them."""
    await publish(
        mqtt_url,
        [
            (telemetry_topic("water", "yinhang", NEW_SENSOR), reading(0.31, 60_000)),
            (telemetry_topic("water", "yinhang", NEW_SENSOR), reading(0.32)),
            (telemetry_topic("water", "yinhang", KNOWN_SENSOR), HOSTILE.encode()),
        ],
    )

    async def all_set_aside() -> bool:
        return len(await letters(gateway)) == 3

    await wait_until(all_set_aside, timeout_s=30, poll_s=0.2)


async def test_an_admin_sees_letters_by_reason_and_replays_one(
    listening: Served, mqtt_broker: EmbeddedMosquitto, browsing: Browsing
) -> None:
    gateway = listening
    await set_aside(gateway, mqtt_broker.url)
    by_reason = {x["reason"]: x for x in await letters(gateway)}
    assert set(by_reason) == {"unknown_sensor", "bad_json"}
    page = browsing.page
    await sign_in(page, gateway.url, gateway.keys["admin"])
    # In the navigation for an admin.
    await page.click("#nav a[href='/console/dead-letters/']")
    await page.wait_for_selector("#dead-letters-list li.letter")

    # Grouped by reason, with counts (all, then the reasons, most waiting first).
    reasons = await page.eval_on_selector_all(
        "#dead-letters-reasons li[data-reason]",
        "items => items.map(li => [li.dataset.reason, li.querySelector('.waiting').textContent])",
    )
    assert reasons == [["", "3"], ["unknown_sensor", "2"], ["bad_json", "1"]]
    words = await page.text_content("#dead-letters-reasons li[data-reason=unknown_sensor] .reason")
    assert words == "未登记的传感器 (unknown_sensor)"

    # The hostile payload is text on the page, not markup: nothing of it ran or was built.
    hostile = "#dead-letters-list li[data-reason=bad_json] pre.payload"
    assert await page.text_content(hostile) == HOSTILE
    assert await page.eval_on_selector(hostile, "pre => pre.children.length") == 0
    assert await page.evaluate("() => window.pwned") is None
    built = "() => document.querySelectorAll('main img, main script').length"
    assert await page.evaluate(built) == 0

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "dead_letters.zh.png"))

    # One reason at a time.
    await page.click("#dead-letters-reasons li[data-reason=unknown_sensor] button")
    shown = await page.eval_on_selector_all(
        "#dead-letters-list li.letter", "items => items.map(li => li.dataset.reason)"
    )
    assert shown == ["unknown_sensor", "unknown_sensor"]

    # Before the cause is fixed a replay fails, and says why; the letter stays.
    newest = max(x["id"] for x in await letters(gateway) if x["reason"] == "unknown_sensor")
    await page.click(f"#dead-letters-list li[data-id='{newest}'] button.replay")
    await page.wait_for_selector("#dead-letters-outcome[data-failed='1']")
    assert "unknown_sensor" in (await page.text_content("#dead-letters-outcome") or "")

    # Register the sensor (the fix), then the replay stores the reading.
    async with httpx.AsyncClient(base_url=gateway.url) as api:
        registered = await api.put(
            f"/v1/sensors/{NEW_SENSOR}",
            json={"type": "water_main_pressure", "subdistrict": "yinhang"},
            headers={"X-API-Key": gateway.keys["admin"]},
        )
    assert registered.status_code == 201, registered.text
    await page.click(f"#dead-letters-list li[data-id='{newest}'] button.replay")
    await page.wait_for_selector("#dead-letters-outcome[data-replayed='1'][data-failed='0']")
    await page.wait_for_selector(f"#dead-letters-list li[data-id='{newest}'][data-replayed=true]")
    assert await page.query_selector(f"li[data-id='{newest}'] button.replay") is None
    replayed = {x["id"]: x["replayed_at"] for x in await letters(gateway)}
    assert replayed[newest] is not None
    assert [i for i, at in replayed.items() if at is not None] == [newest]
    counts = await page.text_content(
        "#dead-letters-reasons li[data-reason=unknown_sensor] .waiting"
    )
    assert counts == "1"

    # A whole reason at once: a payload that is not JSON still is not, and stays.
    await page.click("#dead-letters-reasons li[data-reason=bad_json] button")
    await page.click("#dead-letters-actions button.replay-reason")
    await page.wait_for_selector("#dead-letters-outcome[data-replayed='0'][data-failed='1']")
    assert "bad_json" in (await page.text_content("#dead-letters-outcome") or "")
    assert {x["reason"]: x["replayed_at"] for x in await letters(gateway)}["bad_json"] is None

    # English renders as well, with no label missing.
    await page.click("#lang")
    await page.wait_for_function(
        "() => document.querySelector('.reasons-panel h2').textContent === 'Dead letters by reason'"
    )
    text = await page.inner_text("body")
    assert MISSING_LABEL.findall(text) == []
    assert all(url.startswith(gateway.url) for url in browsing.requests), browsing.requests


@pytest.mark.parametrize("role", ["operator", "viewer"])
async def test_others_see_no_replay_and_the_api_refuses_them(
    role: str, listening: Served, mqtt_broker: EmbeddedMosquitto, browsing: Browsing
) -> None:
    gateway = listening
    await set_aside(gateway, mqtt_broker.url)
    page = browsing.page
    await sign_in(page, gateway.url, gateway.keys[role])
    assert await page.query_selector("#nav a[href='/console/dead-letters/']") is None
    await page.goto(f"{gateway.url}/console/dead-letters/")
    if role == "operator":  # an operator may read the letters (the API lets them), not replay
        await page.wait_for_selector("#dead-letters-list li.letter")
        assert len(await page.query_selector_all("#dead-letters-list li.letter")) == 3
        await page.click("#dead-letters-reasons li[data-reason=unknown_sensor] button")
    else:
        await page.wait_for_selector("#dead-letters-problem:not([hidden])")
        assert await page.query_selector("#dead-letters-list li.letter") is None
    assert await page.query_selector("button.replay, button.replay-reason") is None

    # A forged request with the key is refused all the same.
    async with httpx.AsyncClient(base_url=gateway.url) as api:
        headers = {"X-API-Key": gateway.keys[role]}
        forged = await api.post("/v1/dead-letters/replay", json={}, headers=headers)
        listed = await api.get("/v1/dead-letters", headers=headers)
    assert forged.status_code == 403
    assert listed.status_code == (200 if role == "operator" else 403)
    assert all(x["replayed_at"] is None for x in await letters(gateway))
    assert all(url.startswith(gateway.url) for url in browsing.requests)


def test_every_reason_has_words_in_both_languages() -> None:
    for lang in ("zh", "en"):
        named = labels(lang)
        missing = [r.value for r in RejectReason if f"dead_letters.reason_{r.value}" not in named]
        assert missing == [], f"{lang}.json names no reason {missing}"
