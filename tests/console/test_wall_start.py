"""A wall whose start fails (the gateway away for a moment) says so and starts again by itself:
a wall on a screen has nobody to press reload."""

from __future__ import annotations

from playwright.async_api import Route

from tests.console.conftest import Browsing, sign_in
from tests.gateway.serving import Served


async def test_the_wall_retries_a_failed_start(served: Served, browsing: Browsing) -> None:
    page = browsing.page
    refused: list[str] = []

    async def unreachable(route: Route) -> None:
        refused.append(route.request.url)
        await route.abort("connectionrefused")

    await page.route("**/v1/geography", unreachable)
    await sign_in(page, served.url, served.keys["viewer"])
    await page.wait_for_selector("#wall-problem:not([hidden])")
    assert (await page.text_content("#wall-problem") or "").startswith("数据加载失败")
    assert len(refused) == 1
    await page.unroute("**/v1/geography")
    # Started again without a reload: the map is drawn and the problem gone.
    await page.wait_for_function(
        "() => (window.cityvitals?.map?.getOption()?.series?.[0]?.data ?? []).length > 0",
        timeout=30_000,
    )
    assert await page.is_hidden("#wall-problem")
    assert await page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
