"""During the demo's first run the wall says that history is being filled, and stops saying it
once the gateway's /healthz reports the history done (the field itself is tested on a real
gateway in tests/gateway/test_health_history.py; here the browser sees each state in turn)."""

from __future__ import annotations

import json

from playwright.async_api import Route

from tests.console.conftest import Browsing, sign_in
from tests.gateway.serving import Served


async def test_the_wall_says_history_is_being_filled_until_it_is_done(
    served: Served, browsing: Browsing
) -> None:
    page = browsing.page
    state = {"history": "filling"}
    asked: list[str] = []

    async def health(route: Route) -> None:
        asked.append(state["history"])
        body = json.dumps({"status": "ok", "history": state["history"]})
        await route.fulfill(status=200, content_type="application/json", body=body)

    await page.route("**/healthz", health)
    await sign_in(page, served.url, served.keys["viewer"])
    await page.wait_for_selector("#wall-history:not([hidden])")
    assert (await page.text_content("#wall-history") or "").startswith("历史数据补录中")

    state["history"] = "done"
    await page.wait_for_selector(
        '#wall-history[data-history="done"]', state="attached", timeout=30_000
    )
    assert await page.is_hidden("#wall-history")
    assert asked[-1] == "done"
    assert all(url.startswith(served.url) for url in browsing.requests)


async def test_outside_the_demo_the_wall_says_nothing_of_history(
    served: Served, browsing: Browsing
) -> None:
    page = browsing.page
    asked: list[str] = []

    async def health(route: Route) -> None:  # a gateway outside the demo: no history field
        asked.append(route.request.url)
        await route.continue_()

    await page.route("**/healthz", health)
    await sign_in(page, served.url, served.keys["viewer"])
    # The wall has read the gateway's answer (no history field) ...
    await page.wait_for_selector('#wall-history[data-history="none"]', state="attached")
    assert asked, "the wall asked /healthz"
    # ... and says nothing of history.
    assert await page.is_hidden("#wall-history")
