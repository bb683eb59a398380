"""The wall (/console/) in headless Chromium against a real city: every configured subdistrict
drawn, a breach over MQTT colouring its subdistrict and reaching the ticker without a reload,
no request outside the gateway, Chinese and English both complete."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from playwright.async_api import Page

from schemas.topics import telemetry_topic
from tests.console.conftest import SCREENSHOTS, Browsing, City, sign_in
from tests.ingest.traffic import publish

SENSOR = "yp-wp-0004"  # a water-main pressure gauge of the example inventory
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
    regions = await page.evaluate(
        "() => window.cityvitals.geography.subdistricts.features.map(f => f.id)"
    )
    assert regions == codes
    # Sensors online per subdistrict, and the vital-sign tiles, from the stream.
    await page.wait_for_selector("#live[data-state=live]")
    await page.wait_for_function(
        f"() => ({MAP_DATA})().filter(d => d.online > 0).length >= {len(codes) // 2}"
    )
    await page.wait_for_selector(".tile[data-domain=water] .figure .value")

    # A breach over MQTT: the gauge reads 0.14 MPa (orange: below 0.16).
    place = city.inventory.sensors[SENSOR].subdistrict
    body = {"ts": int(datetime.now(UTC).timestamp() * 1000), "metrics": {"pressure": 0.14}}
    published = time.monotonic()
    await publish(city.mqtt_url, [(telemetry_topic("water", place, SENSOR), orjson.dumps(body))])
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
    drawn = {d["name"]: d for d in await map_data(page)}
    assert drawn[place]["itemStyle"]["areaColor"] == GRADE_COLOURS[grade]
    assert {d["itemStyle"]["areaColor"] for n, d in drawn.items() if n != place} == {NEUTRAL}
    count = await page.text_content(f"#wall-counts [data-grade={grade}] .n")
    assert count == "1"
    assert await page.get_attribute(ticker_item, "data-grade") == grade
    chip = await page.text_content(f".tile[data-domain=water] .chip[data-grade={grade}]")
    assert chip == "橙 1"
    ticker_text = await page.text_content(ticker_item)
    assert ticker_text is not None
    assert "橙" in ticker_text
    assert "触发" in ticker_text

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
