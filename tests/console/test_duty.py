"""The duty console (/console/alerts and one alert's page) in headless Chromium against a real
city: a breach over MQTT joins the list without a reload, worst first and filterable; an operator
acknowledges, assigns, silences and closes it from the console, the still-firing close asking
for a confirmation and a note, and the audit trail (API) shows it all under the key's name; a
viewer sees no action and a forged request with the viewer's key is refused."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Page

from tests.console.conftest import SCREENSHOTS, Browsing, City, sign_in

SENSOR = "yp-wp-0004"  # water-main pressure gauges of the example inventory
OTHER_SENSOR = "yp-wp-0003"
THIRD_SENSOR = "yp-wp-0002"
MISSING_LABEL = re.compile(r"\[[a-z_]+\.[a-z_.]+\]")
WAIT_MS = 30_000  # generous: a loaded machine must not fail the test
ROW = "#duty-rows tr[data-subject='{}']"
CHART_POINTS = "() => window.cityvitals?.alertChart?.getOption()?.series?.[0]?.data?.length ?? 0"
CHART_LINES = (
    "() => window.cityvitals.alertChart.getOption().series[0].markLine.data"
    ".filter(d => d.yAxis !== undefined).map(d => d.yAxis)"
)


async def api_get(city: City, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=city.url) as client:
        answer = await client.get(
            path, params=params, headers={"X-API-Key": city.gateway.keys["viewer"]}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def labels_complete(page: Page) -> None:
    text = await page.inner_text("body")
    assert MISSING_LABEL.findall(text) == []


async def open_duty_list(page: Page, city: City, role: str) -> None:
    await sign_in(page, city.url, city.gateway.keys[role])
    await page.click("#nav a[href='/console/alerts/']")
    await page.wait_for_selector("#duty-rows tr")
    await page.wait_for_selector("#live[data-state=live]")


async def test_an_operator_closes_the_loop_from_the_console(city: City, browsing: Browsing) -> None:
    page = browsing.page
    await open_duty_list(page, city, "operator")
    assert await page.text_content("#duty-rows tr.empty") == "当前没有待处置的告警"

    # Two breaches over MQTT join the list without a reload, the red one first.
    await city.publish(SENSOR, {"pressure": 0.14})  # orange: below 0.16
    await page.wait_for_selector(ROW.format(SENSOR), timeout=WAIT_MS)
    await city.publish(OTHER_SENSOR, {"pressure": 0.10})  # red: below 0.12
    await page.wait_for_selector(ROW.format(OTHER_SENSOR), timeout=WAIT_MS)
    await city.publish(THIRD_SENSOR, {"pressure": 0.19})  # yellow: below 0.20
    await page.wait_for_selector(ROW.format(THIRD_SENSOR), timeout=WAIT_MS)
    order = await page.eval_on_selector_all(
        "#duty-rows tr", "rows => rows.map(r => r.dataset.subject)"
    )
    assert order == [OTHER_SENSOR, SENSOR, THIRD_SENSOR]  # worst first
    row = page.locator(ROW.format(SENSOR))
    assert await row.get_attribute("data-grade") == "orange"
    text = await row.inner_text()
    place = city.geography.subdistricts[city.inventory.sensors[SENSOR].subdistrict]
    sensor_name = city.inventory.sensors[SENSOR].name
    assert sensor_name
    for shown in ("橙色预警", place.zh, sensor_name, "供水管网压力计", SENSOR, "0.14 MPa"):
        assert shown in text
    assert "阈值 ≤ 0.16 MPa" in text
    assert "待处置" in text
    assert await page.text_content("#duty-count") == "共 3 条"

    # Filters: by grade, then by subdistrict.
    await page.select_option("#duty-filters select[name=grade]", "red")
    await page.wait_for_selector(ROW.format(SENSOR), state="detached")
    assert await page.locator("#duty-rows tr").count() == 1
    await page.select_option("#duty-filters select[name=grade]", "")
    await page.select_option("#duty-filters select[name=subdistrict]", place.code)
    inside = [r.id for r in city.inventory if r.subdistrict == place.code]
    await page.wait_for_function(
        """inside => [...document.querySelectorAll('#duty-rows tr')]
            .every(r => inside.includes(r.dataset.subject))""",
        arg=inside,
    )
    assert await page.locator(ROW.format(SENSOR)).count() == 1
    await page.select_option("#duty-filters select[name=subdistrict]", "")
    await page.wait_for_selector(ROW.format(OTHER_SENSOR))
    await labels_complete(page)

    # One alert's page: the readings around it with the orange and the other grades' lines.
    await page.click(f"{ROW.format(SENSOR)} td.place a")
    await page.wait_for_selector(".alert-page[data-ops=open]")
    await page.wait_for_function(f"() => ({CHART_POINTS})() > 10")
    lines = await page.evaluate(CHART_LINES)
    assert 0.16 in lines
    assert 0.12 in lines
    assert await page.text_content("[data-fact='duty.threshold']") == "≤ 0.16 MPa"
    [firing] = await page.locator("#alert-transitions li[data-kind=firing]").all()
    assert "橙" in await firing.inner_text()
    fingerprint = page.url.rstrip("/").rsplit("/", 1)[1]

    # Acknowledge, assign, note and silence: each lands in the page's audit trail.
    await page.click("form[data-action=acknowledge] button")
    await page.wait_for_selector("#alert-audit li[data-kind=acknowledged]")
    assert await page.is_hidden("form[data-action=acknowledge]")  # done: no longer offered
    await page.fill("form[data-action=assign] input[name=to]", "water-crew-3")
    await page.click("form[data-action=assign] button")
    await page.wait_for_selector("#alert-audit li[data-kind=assigned]")
    assert "已派单 · water-crew-3" in (await page.text_content("[data-fact='duty.col_ops']") or "")
    await page.fill("form[data-action=note] textarea", "已关阀，抢修队在途")
    await page.click("form[data-action=note] button")
    await page.wait_for_selector("#alert-audit li[data-kind=note]")
    await page.select_option("form[data-action=silence] select", "4")
    await page.fill("form[data-action=silence] input[name=comment]", "计划检修")
    await page.click("form[data-action=silence] button")
    await page.wait_for_selector("#duty-action-done:text('静默')")
    await page.wait_for_selector("#alert-silenced", state="visible")
    silenced = await page.text_content("#alert-silenced") or ""
    assert silenced.startswith("已静默至")
    assert "served-operator：计划检修" in silenced

    # Closing while it still fires: the page asks for a confirmation and a note first.
    await page.click("form[data-action=close] button")
    await page.wait_for_selector("#duty-confirm", state="visible")
    assert await page.text_content("#duty-confirm h3") == "告警仍在触发，确认关闭？"
    detail = await api_get(city, f"/v1/alerts/{fingerprint}")
    assert detail["ops"] == "assigned"  # nothing closed yet
    await page.click("#duty-confirm-yes")  # without a note: refused by the page
    assert await page.text_content("#duty-action-problem") == "关闭仍在触发的告警需要写明原因。"
    await page.fill("#duty-confirm-note", "主管网已修复，等待压力回升")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "alert.zh.png"))
    await page.click("#duty-confirm-yes")
    await page.wait_for_selector(".alert-page[data-closed-while-firing=true]")
    await page.wait_for_selector("#alert-audit li[data-kind=closed]")
    assert await page.is_visible("#alert-closed-firing")
    assert await page.is_hidden("form[data-action=close]")
    await labels_complete(page)

    # The audit trail (API) has every action under the key's name.
    audit = await api_get(city, "/v1/audit", fingerprint=fingerprint)
    actions = {line["kind"]: line for line in audit["items"] if line["actor"]}
    assert set(actions) == {"acknowledged", "assigned", "note", "closed"}
    assert {line["actor"] for line in actions.values()} == {"served-operator"}
    assert actions["closed"]["note"] == "主管网已修复，等待压力回升"
    detail = await api_get(city, f"/v1/alerts/{fingerprint}")
    assert (detail["ops"], detail["assignee"]) == ("closed", "water-crew-3")
    assert detail["closed_while_firing"] is True
    [silence] = await api_get(city, "/v1/silences")
    assert silence["created_by"] == "served-operator"
    assert set(silence["matchers"]) == {f"rule_id={detail['rule_id']}", f"sensor={SENSOR}"}

    # Back on the list it is still there, marked closed while firing.
    await page.click(".alert-head .back")
    await page.wait_for_selector(f"{ROW.format(SENSOR)}[data-closed-while-firing=true]")
    assert "已关闭（仍在告警）" in await page.locator(ROW.format(SENSOR)).inner_text()
    await page.screenshot(path=str(SCREENSHOTS / "duty.zh.png"))

    # English, complete, on both pages.
    await page.click("#lang")
    await page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert await page.text_content(".duty-head h2") == "Duty: open alerts"
    assert "Closed while firing" in await page.locator(ROW.format(SENSOR)).inner_text()
    await labels_complete(page)
    await page.goto(f"{city.url}/console/alerts/{fingerprint}/")
    await page.wait_for_selector("#alert-audit li[data-kind=closed]")
    assert await page.text_content(".actions-panel h2") == "Actions"
    await labels_complete(page)
    await page.wait_for_function(f"() => ({CHART_POINTS})() > 10")
    await page.screenshot(path=str(SCREENSHOTS / "alert.en.png"))

    # Once the pressure is back the alert resolves: the page follows without a reload, and
    # only then does the closed alert leave the duty list.
    await city.publish(SENSOR, {"pressure": 0.30})
    await page.wait_for_selector(".alert-page[data-phase=resolved]", timeout=WAIT_MS)
    await page.wait_for_selector("#alert-transitions li[data-kind=resolved]")
    assert await page.is_hidden("#alert-closed-firing")
    await page.click(".alert-head .back")
    await page.wait_for_selector(ROW.format(OTHER_SENSOR))
    assert await page.locator(ROW.format(SENSOR)).count() == 0

    # Every request stayed on the gateway, and the key was in no URL.
    outside = [u for u in browsing.requests if not u.startswith(city.url + "/")]
    assert outside == []
    key = city.gateway.keys["operator"]
    assert [u for u in browsing.requests if key in u] == []


async def test_a_viewer_sees_no_action_and_cannot_forge_one(city: City, browsing: Browsing) -> None:
    page = browsing.page
    await open_duty_list(page, city, "viewer")
    await city.publish(SENSOR, {"pressure": 0.14})
    await page.wait_for_selector(ROW.format(SENSOR), timeout=WAIT_MS)
    fingerprint = await page.get_attribute(ROW.format(SENSOR), "data-fingerprint")
    assert fingerprint
    # The alert's page as the Grafana walls link it (grafana_dashboards/console_links.py).
    await page.goto(f"{city.url}/console/alerts/{fingerprint}")
    await page.wait_for_selector("#alert-transitions li[data-kind=firing]")
    await page.wait_for_function(f"() => ({CHART_POINTS})() > 10")
    assert await page.locator("[data-action]").count() == 0
    assert await page.locator("#alert-actions button").count() == 0
    assert await page.is_hidden("#alert-actions")

    # The same request the operator's button sends, forged from the page with the viewer's key.
    status = await page.evaluate(
        """async ([fp, key]) => (await fetch(`/v1/alerts/${fp}/acknowledge`, {
            method: "POST", headers: {"X-API-Key": key, "Content-Type": "application/json"},
            body: "{}"})).status""",
        [fingerprint, city.gateway.keys["viewer"]],
    )
    assert status == 403
    detail = await api_get(city, f"/v1/alerts/{fingerprint}")
    assert detail["ops"] == "open"
    audit = await api_get(city, "/v1/audit", fingerprint=fingerprint)
    assert [line for line in audit["items"] if line["actor"]] == []
