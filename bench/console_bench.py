"""The console's wall: how soon it is drawn, and what connected walls cost the database.

`console.wall.first_paint_ms`: Debian's chromium, headless (Playwright), opens the wall of the
demo-sized city (bench/console_city.py) at 1920x1080, signed in (the key already in the tab's
session, as on a wall that reloads). Measured on the page's performance clock from navigation
start (performance.now() = 0) to the first animation frame at which the map series holds every
configured subdistrict with its sensor counts from the stream (some online), the firing counts
add up to the alerts firing, and every domain's tile shows a figure. The sparklines, fetched
after the figures, are not waited for. Each load is a fresh browser context (an empty HTTP
cache, as a wall switched on); one load warms the gateway first; the figure is the median of
LOADS.

`console.wall.db_queries_per_min` (and `..._20_walls`): vital-signs computations the gateway ran
(its metric cityvitals_gateway_vital_signs_computed; 4 SQL queries each) while 1, then 20 walls
were connected for SPAN_S, connections included, per minute. A wall here is an HTTP client
making the wall's requests: its start (geography, sensor types, audit, firing alerts) and its
live stream, read as it comes. That is equivalent for this figure: the vital signs are computed
only for the stream (on connect, then by the stream's poller); the wall's other requests
(those above, the sparklines' readings) never compute them, and 20 browsers would load the
2 shared cores rather than the gateway. Target: 20 walls add no more than one vital-signs
computation per gateway.vital_signs_ttl over one wall.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from playwright.async_api import Browser, async_playwright

from bench.console_city import SENSORS, ServedCity, serve_city
from bench.report import Figure
from cityvitals.embedded import EmbeddedPostgres
from cityvitals.settings import load_settings

CHROMIUM = Path("/usr/bin/chromium")
LOADS = 5
WALLS = 20
SPAN_S = 30.0
GUARD_MS = 60_000  # a wall not drawn by then is a failure, not a figure
COUNTER = "cityvitals_gateway_vital_signs_computed_total"
STREAMS = "cityvitals_gateway_streams"
SESSION_KEY = "cityvitals.key"  # where the console keeps the signed-in key (js/session.js)

# Returns the performance clock's time once the wall is drawn, false before.
DRAWN = """([subdistricts, firing]) => {
  const data = window.cityvitals?.map?.getOption()?.series?.[0]?.data ?? [];
  const map = data.length === subdistricts && data.some((d) => d.online > 0);
  const counts = [...document.querySelectorAll("#wall-counts .count .n")]
    .reduce((sum, n) => sum + Number(n.textContent), 0) === firing;
  const tiles = [...document.querySelectorAll("#wall-tiles .tile")];
  const figures = tiles.length > 0 && tiles.every((tile) =>
    [...tile.querySelectorAll(".figure .value")].some((v) => /[0-9]/.test(v.textContent)));
  return map && counts && figures ? performance.now() : false;
}"""


async def first_paint_ms(browser: Browser, city: ServedCity) -> float:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        await context.add_init_script(
            f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(city.keys[0])})"
        )
        page = await context.new_page()
        outside: list[str] = []
        page.on(
            "request",
            lambda r: None if r.url.startswith(city.url + "/") else outside.append(r.url),
        )
        await page.goto(f"{city.url}/console/")
        drawn = await page.wait_for_function(
            DRAWN, arg=[len(city.geography), city.firing], polling="raf", timeout=GUARD_MS
        )
        if outside:
            raise RuntimeError(f"the wall asked outside the gateway: {outside}")
        return float(await drawn.json_value())
    finally:
        await context.close()


async def paint(city: ServedCity) -> list[float]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            await first_paint_ms(browser, city)  # warms the gateway and the database's cache
            return [await first_paint_ms(browser, city) for _ in range(LOADS)]
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def wall_client(client: httpx.AsyncClient, key: str) -> AsyncIterator[list[str]]:
    """One wall's requests: its start, then its live stream read while the block runs; yields
    the stream's event names as they arrive."""
    headers = {"X-API-Key": key}
    for path in ("/v1/geography", "/v1/sensor-types", "/v1/audit?limit=40"):
        (await client.get(path, headers=headers)).raise_for_status()
    firing = await client.get(
        "/v1/alerts", params={"phase": "firing", "limit": 500}, headers=headers
    )
    firing.raise_for_status()
    events: list[str] = []

    async def read() -> None:
        async with client.stream("GET", "/v1/stream", headers=headers) as stream:
            stream.raise_for_status()
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    events.append(line.removeprefix("event: "))

    reading = asyncio.create_task(read())
    try:
        yield events
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading


async def no_stream_open(city: ServedCity) -> None:
    """Until the gateway has no live stream open (the browser's last wall is gone), so a span
    starts from a quiet gateway whose stream poller is stopped."""
    deadline = time.monotonic() + GUARD_MS / 1000
    while city.metrics.registry.get_sample_value(STREAMS):
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway kept a closed wall's stream open")
        await asyncio.sleep(0.1)


async def computations(city: ServedCity, walls: int, ttl_s: float) -> tuple[float, float]:
    """Vital-signs computations while `walls` walls connect and stay SPAN_S: (count, minutes)."""
    await no_stream_open(city)
    # The vital signs the last walls were sent expire: the span's first computation is its own,
    # so both spans start alike (a fixed interval, the TTL, not a wait for some condition).
    await asyncio.sleep(ttl_s)
    before = city.metrics.registry.get_sample_value(COUNTER) or 0.0
    began = time.monotonic()
    async with (
        httpx.AsyncClient(base_url=city.url, timeout=GUARD_MS / 1000) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        connected = [stack.enter_async_context(wall_client(client, k)) for k in city.keys[:walls]]
        streams = await asyncio.gather(*connected)
        await asyncio.sleep(SPAN_S - (time.monotonic() - began))  # the span measured
        silent = [n for n, events in enumerate(streams) if "vital_signs" not in events]
    if silent:
        raise RuntimeError(f"walls {silent} got no vital signs from the stream")
    after = city.metrics.registry.get_sample_value(COUNTER) or 0.0
    return after - before, (time.monotonic() - began) / 60


async def measure(url: str) -> list[Figure]:
    ttl = load_settings(database_url=url).gateway.vital_signs_ttl
    async with serve_city(url, walls=WALLS) as city:
        paints = await paint(city)
        one, one_min = await computations(city, 1, ttl)
        many, many_min = await computations(city, WALLS, ttl)
    city_note = (
        f"{SENSORS:,} sensors, {len(city.geography)} subdistricts, {city.readings:,} readings, "
        f"{city.firing} alerts firing"
    )
    bound = 60 / ttl
    one_rate, many_rate = one / one_min, many / many_min
    return [
        Figure(
            "console.wall.first_paint_ms",
            statistics.median(paints),
            "ms",
            f"median of {LOADS} loads, max {max(paints):,.0f}; {city_note}; target < 1,500",
        ),
        Figure(
            "console.wall.db_queries_per_min",
            one_rate,
            "vital signs/min",
            f"1 wall: {one:.0f} in {one_min * 60:.0f} s; 4 SQL queries each; TTL {ttl:g} s",
        ),
        Figure(
            "console.wall.db_queries_per_min_20_walls",
            many_rate,
            "vital signs/min",
            f"{WALLS} walls: {many:.0f} in {many_min * 60:.0f} s, {many - one:+.0f} on 1 wall's; "
            f"target: at most +{bound:g}/min (1 per TTL)",
        ),
    ]


def run() -> list[Figure]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/system-deps.sh (installs it)")
    base = Path(tempfile.mkdtemp(prefix="cv-bench-console-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data")
    server.start()
    try:
        server.create_database("bench")
        return asyncio.run(measure(server.url_for("bench")))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
