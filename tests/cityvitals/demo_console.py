"""The demo's console in headless chromium, for the demo smoke test: signed in with the banner's
viewer key, the wall shows the city with live figures, and asks nothing outside the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Request, async_playwright

from tests.console.conftest import CHROMIUM, SCREENSHOTS, sign_in

GUARD_MS = 120_000  # against a hung wall, not a measurement: each wait ends when its thing shows
MAP_DATA = "() => window.cityvitals?.map?.getOption()?.series?.[0]?.data ?? []"
# The first tile figure that shows a number (not the "no value" dash), or null.
A_FIGURE = """() => [...document.querySelectorAll("#wall-tiles .tile .figure .value")]
  .map((v) => v.textContent).find((text) => /[0-9]/.test(text)) ?? null"""


@dataclass
class WallSeen:
    drawn: list[dict[str, Any]]  # the map series: one item per subdistrict drawn
    figure: str  # a tile's figure, as shown
    requests: list[str] = field(default_factory=list)  # every URL the page asked


async def open_wall(console_url: str, key: str, subdistricts: int) -> WallSeen:
    """Open `console_url`, sign in with `key`, wait until the map has `subdistricts` regions,
    the stream is live and a tile shows a figure."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/system-deps.sh"
    base = console_url.removesuffix("/console/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 1920, "height": 1080}, locale="zh-CN"
            )
            page = await context.new_page()
            requests: list[str] = []

            def record(request: Request) -> None:
                requests.append(request.url)

            page.on("request", record)
            await sign_in(page, base, key)
            await page.wait_for_function(
                f"() => ({MAP_DATA})().length === {subdistricts}", timeout=GUARD_MS
            )
            await page.wait_for_selector("#live[data-state=live]", timeout=GUARD_MS)
            figure = await page.wait_for_function(A_FIGURE, timeout=GUARD_MS)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "demo-wall.zh.png"))
            return WallSeen(await page.evaluate(MAP_DATA), await figure.json_value(), requests)
        finally:
            await browser.close()
