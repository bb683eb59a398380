"""The wall (/console/) in headless Chromium against a real city: every configured subdistrict
drawn, a breach over MQTT colouring its subdistrict and reaching the ticker without a reload,
no request outside the gateway, Chinese and English both complete."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.async_api import Page, Request

from tests.console.conftest import SCREENSHOTS, Browsing, City, sign_in
from tests.waiting import wait_until

SENSOR = "yp-wp-0004"  # water-main pressure gauges of the example inventory
OTHER_SENSOR = "yp-wp-0003"
GRADE_COLOURS = {"red": "#e5302d", "orange": "#f28a1c", "yellow": "#f2cf1d", "blue": "#1e6fd9"}
NEUTRAL = "#24384f"
MISSING_LABEL = re.compile(r"\[[a-z_]+\.[a-z_.]+\]")
WAIT_MS = 30_000  # generous: a loaded machine must not fail the test; the time is reported

MAP_DATA = "() => window.cityvitals?.map?.getOption()?.series?.[0]?.data ?? []"


async def map_data(page: Page) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = await page.evaluate(MAP_DATA)
    return data


async def test_the_wall_shows_the_city_and_turns_with_a_breach(
    city: City, browsing: Browsing
) -> None:
    page = browsing.page
    codes = [s.code for s in city.geography]
    await sign_in(page, city.url, city.gateway.keys["viewer"])

    # Every configured subdistrict is a region of the drawn map, neutral while nothing fires.
    await page.wait_for_function(f"() => ({MAP_DATA})().length === {len(codes)}")
    drawn = await map_data(page)
    assert sorted(d["name"] for d in drawn) == sorted(codes)
    assert {d["itemStyle"]["areaColor"] for d in drawn} == {NEUTRAL}
    # The regions ECharts laid out from the registered GeoJSON: one polygon per subdistrict.
    regions = await page.evaluate(
        "() => window.cityvitals.map.getModel().getSeriesByIndex(0).coordinateSystem.regions"
        ".map(r => r.name)"
    )
    assert sorted(regions) == sorted(codes)
    # Sensors online per subdistrict, and the vital-sign tiles, from the stream.
    await page.wait_for_selector("#live[data-state=live]")
    await page.wait_for_function(
        f"() => ({MAP_DATA})().filter(d => d.online > 0).length >= {len(codes) // 2}"
    )
    await page.wait_for_selector(".tile[data-domain=water] .figure .value")

    # A breach over MQTT: the gauge reads 0.14 MPa (orange: below 0.16).
    place = city.inventory.sensors[SENSOR].subdistrict
    published = time.monotonic()
    await city.publish(SENSOR, {"pressure": 0.14})
    ticker_item = f"#wall-ticker li[data-kind=firing][data-subject='{SENSOR}']"
    await page.wait_for_selector(ticker_item, timeout=WAIT_MS)
    await page.wait_for_function(
        f"() => ({MAP_DATA})().find(d => d.name === '{place}')?.grade",
        timeout=WAIT_MS,
    )
    seconds = time.monotonic() - published
    print(f"breach published -> wall turned and ticker showed it in {seconds:.2f} s")

    async with httpx.AsyncClient(base_url=city.url) as api:
        answer = await api.get(
            "/v1/alerts",
            params={"phase": "firing", "subject_id": SENSOR},
            headers={"X-API-Key": city.gateway.keys["viewer"]},
        )
    [alert] = answer.json()["items"]
    grade = alert["grade"]
    assert grade == "orange"
    by_name = {d["name"]: d for d in await map_data(page)}
    assert by_name[place]["itemStyle"]["areaColor"] == GRADE_COLOURS[grade]
    assert {d["itemStyle"]["areaColor"] for n, d in by_name.items() if n != place} == {NEUTRAL}
    count = await page.text_content(f"#wall-counts [data-grade={grade}] .n")
    assert count == "1"
    assert await page.get_attribute(ticker_item, "data-grade") == grade
    chip = await page.text_content(f".tile[data-domain=water] .chip[data-grade={grade}]")
    assert chip == "橙 1"
    ticker_text = await page.text_content(ticker_item)
    assert ticker_text is not None
    assert "橙" in ticker_text
    assert "触发" in ticker_text
    link = f"{ticker_item} a.subject"
    assert await page.get_attribute(link, "href") == f"/console/sensors/{SENSOR}/"

    # Chinese by default, complete; a screenshot for people to look at.
    assert await page.text_content(".bar h1") == "城市生命体征"
    text = await page.inner_text("body")
    assert not MISSING_LABEL.findall(text)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "wall.zh.png"))

    # English, complete, without a reload; the map's labels follow.
    await page.click("#lang")
    await page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert await page.text_content(".bar h1") == "City Vitals"
    text = await page.inner_text("body")
    assert not MISSING_LABEL.findall(text)
    assert "Firing" in (await page.text_content(ticker_item) or "")
    await page.screenshot(path=str(SCREENSHOTS / "wall.en.png"))

    # Nothing outside the gateway's origin, and the key in no URL.
    assert browsing.requests
    outside = [u for u in browsing.requests if not u.startswith(city.url + "/")]
    assert outside == []
    key = city.gateway.keys["viewer"]
    assert [u for u in browsing.requests if key in u] == []

    # The ticker's sensor leads to the sensor's page.
    await page.click(link)
    await page.wait_for_selector("#sensor-identity dd[data-field=id]")
    assert await page.text_content("#sensor-identity dd[data-field=id]") == SENSOR


async def test_the_wall_catches_up_after_a_gateway_restart(city: City, browsing: Browsing) -> None:
    """The stream ends with the gateway; the wall reconnects with Last-Event-ID and gets the
    alert that fired while the gateway was down, without a reload."""
    page = browsing.page
    stream_headers: list[dict[str, str]] = []

    def record_stream(request: Request) -> None:
        if request.url == f"{city.url}/v1/stream":
            stream_headers.append(request.headers)

    page.on("request", record_stream)
    await sign_in(page, city.url, city.gateway.keys["operator"])
    await page.wait_for_selector("#live[data-state=live]")
    # One alert before the restart, so the wall has an event id to resume from.
    await city.publish(SENSOR, {"pressure": 0.14})
    await page.wait_for_selector(f"#wall-ticker li[data-kind=firing][data-subject='{SENSOR}']")

    async def breach_while_down() -> None:
        await city.publish(OTHER_SENSOR, {"pressure": 0.10})  # red: below 0.12

        async def fired() -> bool:
            phase = await city.pool.fetchval(
                "SELECT phase FROM alerts WHERE subject_id = $1", OTHER_SENSOR
            )
            return bool(phase == "firing")

        await wait_until(fired, timeout_s=30)

    await city.restart_gateway(breach_while_down)
    other = f"#wall-ticker li[data-kind=firing][data-subject='{OTHER_SENSOR}']"
    await page.wait_for_selector(other, timeout=WAIT_MS)
    await page.wait_for_selector("#live[data-state=live]")
    place = city.inventory.sensors[OTHER_SENSOR].subdistrict
    by_name = {d["name"]: d for d in await map_data(page)}
    assert by_name[place]["itemStyle"]["areaColor"] == GRADE_COLOURS["red"]
    assert await page.text_content("#wall-counts [data-grade=red] .n") == "1"
    # The first connection had nothing to resume; the one after the restart did.
    assert len(stream_headers) >= 2
    assert "last-event-id" in stream_headers[-1]
    assert int(stream_headers[-1]["last-event-id"]) > 0
