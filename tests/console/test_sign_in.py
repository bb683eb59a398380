"""Signing in to the console with an API key: a wrong or an ingest key is refused with the API's
reason; a good one is kept in the tab's session only (never in localStorage or a URL), survives
a reload, and is forgotten on signing out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cityvitals.embedded import EmbeddedMosquitto
from tests.console.conftest import Browsing, sign_in
from tests.gateway.conftest import gateway_settings
from tests.gateway.serving import Served, serving
from tests.harness import ScratchDatabase


@pytest.fixture
async def served(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> AsyncIterator[Served]:
    async with serving(gateway_settings(prepared.url, mqtt_broker.url)) as gateway:
        yield gateway


async def test_refused_keys_say_why(served: Served, browsing: Browsing) -> None:
    page = browsing.page
    await page.goto(f"{served.url}/console/")
    problem = page.locator("#sign-in-problem")
    for key, reason in (
        ("cvk_0123456789ab_" + "x" * 43, "unknown API key 0123456789ab"),
        ("not-a-key", "not an API key"),
        (served.keys["ingest"], "has role ingest; this needs viewer"),
    ):
        await page.fill("#sign-in-key", key)
        await page.click("#sign-in-form button[type=submit]")
        await page.wait_for_function(
            "reason => document.getElementById('sign-in-problem').textContent.includes(reason)",
            arg=reason,
        )
        assert (await problem.text_content() or "").startswith("登录失败")
        assert await page.is_visible("#sign-in")
        assert await page.evaluate("() => sessionStorage.length") == 0


async def test_the_key_lives_in_the_tab_session_only(served: Served, browsing: Browsing) -> None:
    page = browsing.page
    key = served.keys["operator"]
    await sign_in(page, served.url, key)
    assert await page.text_content("#who") == "served-operator（值班员）"
    assert await page.evaluate("() => Object.values(sessionStorage)") == [key]
    assert key not in str(await page.evaluate("() => Object.values(localStorage)"))
    # A reload (a wall's screen restarting its browser tab) keeps the session.
    await page.reload()
    await page.wait_for_selector("#who:text('served-operator')")
    assert await page.is_hidden("#sign-in")
    await page.click("#sign-out")
    await page.wait_for_selector("#sign-in", state="visible")
    assert await page.evaluate("() => sessionStorage.length") == 0
    assert [u for u in browsing.requests if key in u] == []
