"""One sensor's page (/console/sensors/:sensor/) in headless Chromium against a real gateway and
PostgreSQL: its identity, each metric drawn for each range from the series the API chose
(buckets and rollups), the type's thresholds as lines, the online/offline history; Chinese and
English complete; no request outside the gateway."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Response

from storage.status import StatusChange, record_status_changes
from storage.writer import ReadingWriter
from tests.console.conftest import SCREENSHOTS, Browsing, sign_in
from tests.console.test_wall import MISSING_LABEL
from tests.gateway.serving import Served

SENSOR = "yp-wp-0001"  # a water-main pressure gauge of the example inventory
TYPE = "water_main_pressure"
# The width the API chooses for each range (gateway/routes/readings.py: at most 1,000 buckets)
# and where it reads them from (raw readings up to 6 h, the hourly rollup from 2 days on).
CHOSEN = {
    "1h": ("1m", "readings"),
    "24h": ("5m", "readings_1m"),
    "7d": ("15m", "readings_1m"),
    "30d": ("1h", "readings_1h"),
}
SERIES = "(metric) => window.cityvitals.sensorCharts[metric].getOption().series"


async def write_month(served: Served, now: datetime) -> None:
    """30 days of pressure every 10 minutes and the last 90 minutes every minute; the battery
    every hour; the sensor online, offline, online again."""
    catalog = served.state.resolver.catalog
    sensor = catalog.sensors[SENSOR]
    pressure = catalog.metric_ids[(TYPE, "pressure")]
    battery = catalog.metric_ids[(TYPE, "battery")]
    start = now - timedelta(days=30)
    rows = [
        (start + i * timedelta(minutes=10), sensor.id, pressure, 0.3 + (i % 7) / 100)
        for i in range(30 * 144)
        if start + i * timedelta(minutes=10) < now - timedelta(minutes=90)
    ]
    rows += [
        (now - timedelta(minutes=90 - i), sensor.id, pressure, 0.25 + i / 1000) for i in range(90)
    ]
    rows += [(start + i * timedelta(hours=1), sensor.id, battery, 80.0) for i in range(30 * 24)]
    await ReadingWriter(served.state.pool, served.state.backend).write(rows)
    async with served.state.pool.acquire() as conn:
        await record_status_changes(
            conn,
            [
                StatusChange(sensor.id, now - timedelta(days=3), True),
                StatusChange(sensor.id, now - timedelta(days=2), False),
                StatusChange(sensor.id, now - timedelta(days=1), True),
            ],
        )


async def test_the_sensor_page_draws_each_metric_for_each_range(
    served: Served, browsing: Browsing
) -> None:
    now = datetime.now(UTC)
    await write_month(served, now)
    page = browsing.page
    answers: dict[tuple[str, str], Any] = {}  # (metric, bucket) -> the series the page got

    async def record(response: Response) -> None:
        if "/v1/readings?" in response.url and response.ok:
            body = await response.json()
            answers[(body["metric"], body["bucket"])] = body

    page.on("response", record)
    await sign_in(page, served.url, served.keys["viewer"])
    await page.goto(f"{served.url}/console/sensors/{SENSOR}")  # as Grafana's data links do

    # Who it is, and its online/offline history, newest first.
    await page.wait_for_selector("#sensor-identity dd[data-field=status]")
    assert await page.text_content("#sensor-identity dd[data-field=id]") == SENSOR
    assert await page.text_content("#sensor-identity dd[data-field=type]") == (
        f"供水管网压力计 ({TYPE})"
    )
    assert await page.text_content("#sensor-identity dd[data-field=status]") == "在线"
    changes = await page.eval_on_selector_all(
        "#sensor-status li", "items => items.map(li => li.dataset.online)"
    )
    assert changes == ["true", "false", "true"]

    async with httpx.AsyncClient(base_url=served.url) as api:
        asked = await api.get(
            f"/v1/sensor-types/{TYPE}", headers={"X-API-Key": served.keys["viewer"]}
        )
    spec = asked.json()["spec"]["metrics"]
    for name in ("24h", "1h", "7d", "30d"):  # the page opens on 24 h
        if name != "24h":
            await page.click(f"#sensor-ranges button[data-range='{name}']")
        await page.wait_for_selector(f"#sensor-metrics[data-loaded='{name}']", state="attached")
        bucket, source = CHOSEN[name]
        for metric in ("pressure", "battery"):
            body = answers[(metric, bucket)]
            assert body["source"] == source, (name, metric, body["source"])
            assert len(body["points"]) > 0
            series = await page.evaluate(SERIES, metric)
            # The line is the API's averages, bucket by bucket; the band its min..max.
            assert series[0]["data"] == [[p["start"], p["avg"]] for p in body["points"]]
            assert series[1]["data"] == [[p["start"], p["min"]] for p in body["points"]]
            # The type's thresholds, every grade in both directions, as lines.
            limits = spec[metric]["thresholds"]
            expected = sorted(
                value
                for side in ("above", "below")
                for grade, value in (limits.get(side) or {}).items()
                if grade in ("blue", "yellow", "orange", "red") and value is not None
            )
            drawn = sorted(line["yAxis"] for line in series[0]["markLine"]["data"])
            assert drawn == expected
        if name == "1h":  # the last 90 minutes are minute by minute
            assert len(answers[("pressure", "1m")]["points"]) >= 59
        if name == "30d":  # a month of hours (the sensor's first hour may fall outside)
            assert len(answers[("battery", "1h")]["points"]) >= 719
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "sensor.zh.png"))

    # English renders as well, with no label missing.
    await page.click("#lang")
    await page.wait_for_function(
        "() => document.querySelector('#sensor-identity dd[data-field=status]')"
        ".textContent === 'Online'"
    )
    text = await page.inner_text("main")
    assert "Online / offline history" in text
    assert MISSING_LABEL.findall(text) == []
    assert all(url.startswith(served.url) for url in browsing.requests), browsing.requests


async def test_an_unknown_sensor_is_said_plainly(served: Served, browsing: Browsing) -> None:
    page = browsing.page
    await sign_in(page, served.url, served.keys["viewer"])
    await page.goto(f"{served.url}/console/sensors/nope-0001/")
    await page.wait_for_selector("#sensor-problem:not([hidden])")
    assert await page.text_content("#sensor-problem") == "没有编号为 nope-0001 的传感器"
    async with httpx.AsyncClient(base_url=served.url) as api:
        assert (await api.get("/console/sensors/a/b")).status_code == 404  # not a page
    assert json.dumps(browsing.requests)  # every request stayed on the gateway
    assert all(url.startswith(served.url) for url in browsing.requests)


async def test_the_sensor_list_finds_by_type_subdistrict_and_id(
    served: Served, browsing: Browsing
) -> None:
    page = browsing.page
    rows = "#sensor-rows tr"
    ids = "items => items.map(tr => tr.dataset.id)"
    await sign_in(page, served.url, served.keys["viewer"])
    await page.click("#nav a[href='/console/sensors/']")
    await page.wait_for_selector("#sensor-rows[data-loaded='|']", state="attached")
    assert len(await page.query_selector_all(rows)) == 54  # the example inventory
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "sensors.zh.png"))

    await page.select_option("#sensor-type", TYPE)
    await page.select_option("#sensor-place", "yinhang")
    await page.wait_for_selector(f"#sensor-rows[data-loaded='{TYPE}|yinhang']", state="attached")
    assert await page.eval_on_selector_all(rows, ids) == ["yp-wp-0001", "yp-wp-0002"]
    await page.fill("#sensor-search", "0002")
    assert await page.eval_on_selector_all(rows, ids) == ["yp-wp-0002"]
    assert await page.text_content("#sensor-count") == "共 1 个传感器"

    await page.click("#sensor-rows a")
    await page.wait_for_selector("#sensor-identity dd[data-field=id]")
    assert await page.text_content("#sensor-identity dd[data-field=id]") == "yp-wp-0002"
    assert all(url.startswith(served.url) for url in browsing.requests)
