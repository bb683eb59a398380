"""Readings: buckets from raw data or rollups, raw pages, streamed exports, and their limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from gateway.models_city import BucketSeries
from tests.gateway.conftest import Gateway, assert_error, write_readings


@pytest.fixture
async def history(gateway: Gateway) -> Gateway:
    """Two pressure gauges in Yinhang, one reading a minute for the last three hours."""
    start = gateway.clock() - timedelta(hours=3)
    for sensor in ("yp-wp-0001", "yp-wp-0002"):
        await write_readings(gateway, sensor, "pressure", start, 180)
    return gateway


def window(gateway: Gateway, hours: float) -> dict[str, str]:
    now = gateway.clock()
    return {"start": (now - timedelta(hours=hours)).isoformat(), "end": now.isoformat()}


async def test_buckets_for_a_sensor_and_a_subdistrict(history: Gateway) -> None:
    params = {"metric": "pressure", "bucket": "5m", **window(history, 1)}
    one = await history.get("/v1/readings", params={**params, "sensor": "yp-wp-0001"})
    assert one.status_code == 200, one.text
    series = one.json()
    BucketSeries.model_validate(series)  # the documented shape, built without the model
    assert (series["source"], series["bucket"], series["sensors"]) == ("readings", "5m", 1)
    assert len(series["points"]) == 12
    assert {p["samples"] for p in series["points"]} == {5}
    first = series["points"][0]
    assert first["avg"] == pytest.approx((120 + 121 + 122 + 123 + 124) / 5000)
    assert first["last"] == pytest.approx(0.124)
    group = {**params, "type": "water_main_pressure", "subdistrict": "yinhang"}
    both = (await history.get("/v1/readings", params=group)).json()
    assert both["sensors"] == 2
    assert {p["samples"] for p in both["points"]} == {10}
    assert {p["last"] for p in both["points"]} == {None}  # no one sensor's newest value
    csv = await history.get("/v1/readings", params={**group, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "start,samples,avg,min,max,last"
    assert len(csv.text.splitlines()) == 13


async def test_long_spans_read_rollups_with_the_same_answer(history: Gateway) -> None:
    params = {"metric": "pressure", "sensor": "yp-wp-0001", "bucket": "1h", **window(history, 72)}
    auto = (await history.get("/v1/readings", params=params)).json()
    raw = (await history.get("/v1/readings", params={**params, "source": "raw"})).json()
    assert auto["source"] == "readings_1h"
    assert raw["source"] == "readings"
    # The same buckets; averages may differ in the last bit (another summation order).
    assert auto["points"] == [{**p, "avg": pytest.approx(p["avg"])} for p in raw["points"]]
    assert sum(p["samples"] for p in auto["points"]) == 180
    unbucketed = {k: v for k, v in params.items() if k != "bucket"}
    default = (await history.get("/v1/readings", params=unbucketed)).json()
    assert default["bucket"] == "5m"  # the first width giving at most 1000 buckets


async def test_bad_range_queries_name_the_field(history: Gateway) -> None:
    now = history.clock()
    base = {"metric": "pressure", "sensor": "yp-wp-0001", **window(history, 1)}
    cases = [
        ({"bucket": "1s", **window(history, 72)}, 422, "bucket"),
        ({"bucket": "5x"}, 422, "bucket"),
        ({"bucket": "5m", "source": "1h"}, 422, "bucket"),
        ({"source": "raw", **window(history, 24 * 8)}, 422, "start"),
        ({"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()}, 422, "start"),
        ({"start": "2026-11-25T08:00:00"}, 422, "start"),
        ({"start": "yesterday"}, 422, "start"),
        ({"metric": "flow"}, 422, "metric"),
        ({"sensor": "nope"}, 404, "sensor"),
        ({"type": "water_main_pressure"}, 422, "sensor"),
        ({"subdistrict": "yinhang"}, 422, "subdistrict"),
    ]
    for extra, status, field in cases:
        response = await history.get("/v1/readings", params={**base, **extra})
        assert_error(response, status, field)
    neither = {k: v for k, v in base.items() if k != "sensor"}
    assert_error(await history.get("/v1/readings", params=neither), 422, "sensor")
    assert_error(await history.get("/v1/readings", params={**neither, "type": "x"}), 404, "type")


async def test_raw_pages(history: Gateway) -> None:
    params = {"sensor": "yp-wp-0001", "limit": 25, **window(history, 1)}
    values: list[float] = []
    cursor = None
    while True:
        page = await history.get("/v1/readings/raw", params={**params, "cursor": cursor or ""})
        assert page.status_code == 200, page.text
        values += [r["value"] for r in page.json()["items"]]
        if (cursor := page.json()["next"]) is None:
            break
    assert values == [pytest.approx(i / 1000) for i in range(120, 180)]
    battery = await history.get("/v1/readings/raw", params={**params, "metric": "battery"})
    assert battery.json() == {"items": [], "next": None}
    too_long = {**params, **window(history, 24 * 8)}
    assert_error(await history.get("/v1/readings/raw", params=too_long), 422, "start")


async def test_exports_stream_every_format(history: Gateway) -> None:
    params = {"type": "water_main_pressure", "subdistrict": "yinhang", **window(history, 3)}
    csv = await history.get("/v1/readings/export", params=params)
    assert csv.status_code == 200, csv.text
    lines = csv.text.splitlines()
    assert lines[0] == "ts,sensor,metric,value"
    assert len(lines) == 361
    assert lines[1].split(",")[1:] == ["yp-wp-0001", "pressure", "0.0"]
    ndjson = await history.get("/v1/readings/export", params={**params, "format": "ndjson"})
    rows = [json.loads(line) for line in ndjson.text.splitlines()]
    assert len(rows) == 360
    assert {r["sensor"] for r in rows} == {"yp-wp-0001", "yp-wp-0002"}
    as_json = await history.get("/v1/readings/export", params={**params, "format": "json"})
    assert as_json.json() == rows
    empty = await history.get(
        "/v1/readings/export", params={**params, "metric": "battery", "format": "json"}
    )
    assert empty.json() == []


async def test_export_limits(history: Gateway) -> None:
    params = {"sensor": "yp-wp-0001", **window(history, 24 * 32)}
    assert_error(await history.get("/v1/readings/export", params=params), 422, "start")
    exports = history.state.exports
    for _ in range(history.state.config.max_exports):
        await exports.acquire()
    busy = await history.get("/v1/readings/export", params={**params, **window(history, 1)})
    assert_error(busy, 429)
    assert busy.headers["retry-after"]
    exports.release()
    ok = await history.get("/v1/readings/export", params={**params, **window(history, 1)})
    assert ok.status_code == 200
    # The stream gave its slot back: the last one is free again.
    assert not exports.locked()
