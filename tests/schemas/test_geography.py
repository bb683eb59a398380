"""Geography files: the shipped districts load, tile without overlaps and hold the example
inventory's sensors; every kind of bad GeoJSON is reported with its file, feature and key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.errors import GeographyError
from schemas.geography import DEFAULT_GEOGRAPHY, GEOGRAPHY_DIR, Geography, load_geography

HONGKOU = GEOGRAPHY_DIR / "examples" / "hongkou.geojson"
INVENTORY_DIR = Path(__file__).parents[2] / "schemas" / "inventory"


@pytest.fixture(scope="module")
def both() -> Geography:
    return load_geography([DEFAULT_GEOGRAPHY, HONGKOU])


def test_the_default_is_one_district_with_twelve_subdistricts() -> None:
    geography = load_geography()
    (district,) = geography.districts.values()
    assert (district.code, district.zh, district.time_zone) == ("yangpu", "杨浦区", "Asia/Shanghai")
    assert len(geography) == 12 == len(district.subdistricts)
    assert (geography.city.code, geography.city.zh) == ("shanghai", "上海市")
    wujiaochang = geography.subdistricts["wujiaochang"]
    assert (wujiaochang.zh, wujiaochang.en, wujiaochang.district) == (
        "五角场街道",
        "Wujiaochang",
        "yangpu",
    )
    # the map point lies inside its own polygon
    for sub in geography:
        located = geography.locate(sub.lat, sub.lon)
        assert located is not None
        assert located.code == sub.code


def test_two_districts_share_a_border_without_overlapping(both: Geography) -> None:
    assert list(both.districts) == ["yangpu", "hongkou"]
    assert len(both) == 20
    assert both.district_of("tilanqiao").zh == "虹口区"
    assert [s.code for s in both.in_district("hongkou")][:2] == ["ouyang_road", "quyang_road"]
    assert both.locate(31.27, 121.48).code == "sichuan_north_road"  # type: ignore[union-attr]
    assert both.locate(31.10, 121.50) is None  # Minhang: outside both


def test_the_example_inventory_lies_where_it_says() -> None:
    geography = load_geography()
    rows = yaml.safe_load((INVENTORY_DIR / "example.yaml").read_text(encoding="utf-8"))["sensors"]
    misplaced = [
        r["id"]
        for r in rows
        if getattr(geography.locate(r["lat"], r["lon"]), "code", None) != r["subdistrict"]
    ]
    assert misplaced == []


def _write(tmp_path: Path, document: Any, name: str = "d.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _problems(*paths: Path) -> list[str]:
    with pytest.raises(GeographyError) as caught:
        load_geography(list(paths))
    return [str(p) for p in caught.value.problems]


def _hongkou() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(HONGKOU.read_text(encoding="utf-8"))
    return document


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    document = _hongkou()
    document["district"]["time_zone"] = "Asia/Hongkou"
    features = document["features"]
    features[0]["properties"]["code"] = "Ouyang Road"
    features[1]["geometry"]["coordinates"][0].pop()  # open the ring
    features[2]["properties"]["code"] = "jiaxing_road"  # duplicate of features[3]
    bowtie = [[121.47, 31.27], [121.48, 31.28], [121.48, 31.27], [121.47, 31.28], [121.47, 31.27]]
    features[4]["geometry"]["coordinates"] = [bowtie]
    features[5]["geometry"] = {"type": "Point", "coordinates": [121.49, 31.25]}
    path = _write(tmp_path, document)
    problems = _problems(path)
    f = str(path)
    assert problems[:5] == [
        f"{f}: district.time_zone: unknown time zone 'Asia/Hongkou' (an IANA time zone name "
        "such as Asia/Shanghai)",
        f"{f}: features[0].properties.code: 'Ouyang Road' does not match ^[a-z][a-z0-9_]{{0,47}}$",
        f"{f}: features[1] (quyang_road).geometry.coordinates[0]: ring is not closed: starts at "
        f"{features[1]['geometry']['coordinates'][0][0]}, ends at "
        f"{features[1]['geometry']['coordinates'][0][-1]} "
        "(GeoJSON repeats the first position last)",
        f"{f}: features[4] (tilanqiao).geometry: invalid Polygon: "
        "Self-intersection[121.475 31.275]",
        f"{f}: features[5] (beiwaitan).geometry.type: expected Polygon or MultiPolygon, "
        "got 'Point'",
    ]
    assert len(problems) == 5  # the duplicate is checked once the file itself is sound


def test_duplicates_and_overlaps_within_and_across_files(tmp_path: Path) -> None:
    document = _hongkou()
    document["features"][2]["properties"]["code"] = "jiaxing_road"  # features[3]'s code
    # Ouyang Road's polygon moved onto Quyang Road's
    document["features"][0]["geometry"] = copy.deepcopy(document["features"][1]["geometry"])
    path = _write(tmp_path, document)
    problems = _problems(path)
    f = str(path)
    assert (
        f"{f}: features[3] (jiaxing_road).properties.code: duplicate subdistrict code "
        f"'jiaxing_road': already features[2] (jiaxing_road) of {f}" in problems
    )
    (overlap,) = [p for p in problems if "geometry: overlaps" in p]
    assert overlap.startswith(
        f"{f}: features[0] (ouyang_road).geometry: overlaps subdistrict 'quyang_road' "
        "(features[1] (quyang_road)) by about "
    )
    # across files: the same district twice
    again = _write(tmp_path, _hongkou(), "again.geojson")
    problems = _problems(HONGKOU, again)
    assert (
        f"{again}: district.code: duplicate district code 'hongkou': already in {HONGKOU}"
        in problems
    )
    assert (
        f"{again}: features[0] (ouyang_road).properties.code: duplicate subdistrict code "
        f"'ouyang_road': already features[0] (ouyang_road) of {HONGKOU}" in problems
    )


def test_a_district_overlapping_another_is_refused(tmp_path: Path) -> None:
    document = _hongkou()
    document["district"]["code"] = "hongkou_copy"
    for i, feature in enumerate(document["features"]):
        feature["properties"]["code"] = f"copy_{i}"
    copy_path = _write(tmp_path, document)
    problems = _problems(HONGKOU, copy_path)
    assert len(problems) == 8
    assert problems[0].startswith(
        f"{HONGKOU}: features[0] (ouyang_road).geometry: overlaps subdistrict 'copy_0' "
        f"(features[0] (copy_0) of {copy_path}) by about "
    )


def test_files_must_name_one_city_and_be_feature_collections(tmp_path: Path) -> None:
    document = _hongkou()
    document["city"] = {"code": "suzhou", "name": {"zh": "苏州市", "en": "Suzhou"}}
    other_city = _write(tmp_path, document)
    assert _problems(DEFAULT_GEOGRAPHY, other_city) == [
        f"{other_city}: city: names city 'suzhou' (苏州市) but {DEFAULT_GEOGRAPHY} names "
        "'shanghai' (上海市): one deployment is one city"
    ]
    feature = _write(tmp_path, _hongkou()["features"][0], "feature.geojson")
    assert _problems(feature) == [
        f"{feature}: type: expected a GeoJSON FeatureCollection, got 'Feature'"
    ]
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection",', encoding="utf-8")
    (message,) = _problems(broken)
    assert message.startswith(f"{broken}: invalid JSON (line 1 column 30)")
    no_district = _hongkou()
    del no_district["district"]
    no_names = _hongkou()
    no_names["features"][0]["properties"] = {"code": "ouyang_road"}
    paths = [_write(tmp_path, no_district, "a.geojson"), _write(tmp_path, no_names, "b.geojson")]
    assert _problems(*paths) == [
        f"{paths[0]}: district: expected "
        '{"code": ..., "name": {"zh": ..., "en": ...}, "time_zone": ...}',
        f"{paths[1]}: features[0] (ouyang_road).properties.name.zh: expected a non-empty name",
        f"{paths[1]}: features[0] (ouyang_road).properties.name.en: expected a non-empty name",
    ]


def test_a_multipolygon_subdistrict_locates_both_parts(tmp_path: Path) -> None:
    document = _hongkou()
    square = [[[121.40, 31.20], [121.41, 31.20], [121.41, 31.21], [121.40, 31.21], [121.40, 31.20]]]
    first = document["features"][0]["geometry"]
    document["features"][0]["geometry"] = {
        "type": "MultiPolygon",
        "coordinates": [first["coordinates"], square],
    }
    geography = load_geography([_write(tmp_path, document)])
    assert geography.locate(31.205, 121.405).code == "ouyang_road"  # type: ignore[union-attr]
    ouyang = geography.subdistricts["ouyang_road"]
    assert geography.locate(ouyang.lat, ouyang.lon).code == "ouyang_road"  # type: ignore[union-attr]
