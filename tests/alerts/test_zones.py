"""Which time zone a subject's schedules are read in: its district's, from the geography files."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.engine.zones import by_district
from alerts.model import Subject
from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, load_geography


def test_each_subject_is_read_in_its_districts_zone(tmp_path: Path) -> None:
    # Hongkou moved to another zone, so a wrong district shows.
    document = json.loads((GEOGRAPHY_DIR / "examples" / "hongkou.geojson").read_text("utf-8"))
    document["district"]["time_zone"] = "Asia/Urumqi"
    elsewhere = tmp_path / "hongkou.geojson"
    elsewhere.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    zone_of = by_district(load_geography([DEFAULT_GEOGRAPHY, elsewhere]))
    shanghai, urumqi = ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Urumqi")

    assert zone_of(Subject("sensor", "hk-wp-0001", "water", "tilanqiao")) == urumqi
    assert zone_of(Subject("subdistrict", "tilanqiao", "water", "tilanqiao")) == urumqi
    assert zone_of(Subject("district", "hongkou", "water")) == urumqi
    assert zone_of(Subject("sensor", "yp-wp-0001", "water", "yinhang")) == shanghai
    assert zone_of(Subject("district", "yangpu", "water")) == shanghai
    # The city: its first district's zone.
    assert zone_of(Subject("city", "shanghai", "water")) == shanghai
    # A place the files no longer hold: the fallback.
    assert zone_of(Subject("subdistrict", "gone", "water", "gone")) == shanghai
