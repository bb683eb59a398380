"""The geography: districts and their subdistricts (街道), read from GeoJSON files.

One file per district (the default: the one file directly in schemas/geography/; examples sit
below it, in examples/; no district is named in code): a FeatureCollection with
two foreign members, ``city`` (the 市 every configured district belongs to: one deployment is one
city, so every file names the same one) and ``district`` (code, zh/en names, IANA time zone), and
one Feature per subdistrict (properties code, name_zh, name_en; a Polygon or MultiPolygon in
WGS-84). A deployment holding several districts lists their files in the ``geography`` setting.

Every problem in every file is reported at once (GeographyError), naming the file, the feature
(index and code) and the key. Subdistrict codes appear in MQTT topics and in the database, so they
are unique across all files. The Geography is built once at start and passed in (no module globals).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from shapely.geometry import Point

from schemas.errors import GeographyError, Problem
from schemas.geojson_area import Area, geojson_area

GEOGRAPHY_DIR = Path(__file__).parent / "geography"


def _shipped_default() -> Path:
    """The one GeoJSON file directly in GEOGRAPHY_DIR: the district a deployment gets when it
    configures none. Found by place rather than by name, so no district is named in code."""
    files = sorted(GEOGRAPHY_DIR.glob("*.geojson"))
    if len(files) != 1:
        found = ", ".join(p.name for p in files) or "none"
        raise RuntimeError(
            f"{GEOGRAPHY_DIR} must hold exactly one default geography file (found: {found}); "
            "put further districts in examples/ or elsewhere and list them in the setting"
        )
    return files[0]


DEFAULT_GEOGRAPHY = _shipped_default()
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
# Neighbouring polygons share edges; drawn by hand they also overlap by slivers. Anything beyond
# this share of the smaller polygon's area is two subdistricts claiming the same ground.
OVERLAP_TOLERANCE = 0.001
_CODE = re.compile(CODE_PATTERN)
_M_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class City:
    """The 市 level above the districts (e.g. 上海市)."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class District:
    """A 区: its names, its time zone (for schedules), its subdistricts' codes in file order."""

    code: str
    zh: str
    en: str
    time_zone: str
    source: str
    subdistricts: tuple[str, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Subdistrict:
    """A 街道 (or 镇): its district, names, a point inside it for maps and default placement."""

    code: str
    zh: str
    en: str
    district: str
    lat: float
    lon: float
    area: Area = field(repr=False, compare=False)


@dataclass(frozen=True)
class Geography:
    """Districts and subdistricts by code, in configuration order, and point-in-polygon lookup."""

    city: City
    districts: Mapping[str, District]
    subdistricts: Mapping[str, Subdistrict]
    _tree: shapely.STRtree = field(repr=False, compare=False)
    _order: tuple[Subdistrict, ...] = field(repr=False, compare=False)

    def __iter__(self) -> Iterator[Subdistrict]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, code: object) -> bool:
        return code in self.subdistricts

    def get(self, code: str) -> Subdistrict | None:
        return self.subdistricts.get(code)

    def district_of(self, subdistrict: str) -> District:
        return self.districts[self.subdistricts[subdistrict].district]

    def in_district(self, district: str) -> list[Subdistrict]:
        return [self.subdistricts[c] for c in self.districts[district].subdistricts]

    def locate(self, lat: float, lon: float) -> Subdistrict | None:
        """The subdistrict whose polygon holds (lat, lon), boundary included; None: outside every
        configured district. On a shared edge the one configured first wins (deterministic)."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return self._order[int(min(hits))] if len(hits) else None

    def known_codes(self) -> str:
        return ", ".join(self.subdistricts)

    def describe(self) -> str:
        """The districts in words for messages: '<zh name> (<code>)', comma-separated."""
        return ", ".join(f"{d.zh} ({d.code})" for d in self.districts.values())


def load_geography(paths: Sequence[Path] = (DEFAULT_GEOGRAPHY,)) -> Geography:
    """Every file in `paths`, validated together; raises GeographyError listing all problems."""
    if not paths:
        raise GeographyError([Problem("geography", "", "no geography file configured")])
    problems: list[Problem] = []
    parsed = [_parse_file(path, problems) for path in paths]
    files = [p for p in parsed if p is not None]
    problems.extend(_cross_file_problems(files))
    if problems:
        raise GeographyError(problems)
    city = files[0].city
    districts = {f.district.code: f.district for f in files}
    order = tuple(s for f in files for s, _ in f.subdistricts)
    areas = [s.area for s in order]
    shapely.prepare(areas)
    return Geography(
        city=city,
        districts=districts,
        subdistricts={s.code: s for s in order},
        _tree=shapely.STRtree(areas),
        _order=order,
    )


@dataclass(frozen=True)
class _File:
    source: str
    city: City
    district: District
    subdistricts: list[tuple[Subdistrict, str]]  # with the feature's key for messages


def _parse_file(path: Path, problems: list[Problem]) -> _File | None:
    source = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        problems.append(Problem(source, "", f"cannot read the geography file: {error.strerror}"))
        return None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        problems.append(Problem(source, "", f"invalid JSON ({where}): {error.msg}"))
        return None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        got = document.get("type") if isinstance(document, dict) else type(document).__name__
        problems.append(
            Problem(source, "type", f"expected a GeoJSON FeatureCollection, got {got!r}")
        )
        return None
    found: list[Problem] = []
    city = _city(document.get("city"), source, found)
    district_fields = _district(document.get("district"), source, found)
    subdistricts = list(_features(document.get("features"), source, district_fields, found))
    problems.extend(found)
    if found or city is None or district_fields is None:
        return None
    code, zh, en, time_zone = district_fields
    codes = tuple(s.code for s, _ in subdistricts)
    return _File(source, city, District(code, zh, en, time_zone, source, codes), subdistricts)


def _names(value: Any, source: str, key: str, problems: list[Problem]) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        problems.append(Problem(source, key, 'expected {"zh": "...", "en": "..."}'))
        return None
    names = [value.get(lang) for lang in ("zh", "en")]
    for lang, name in zip(("zh", "en"), names, strict=True):
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(source, f"{key}.{lang}", "expected a non-empty name"))
    zh, en = names
    return (zh, en) if isinstance(zh, str) and isinstance(en, str) and zh and en else None


def _code(value: Any, source: str, key: str, problems: list[Problem]) -> str | None:
    if isinstance(value, str) and _CODE.fullmatch(value):
        return value
    problems.append(Problem(source, key, f"{value!r} does not match {CODE_PATTERN}"))
    return None


def _city(value: Any, source: str, problems: list[Problem]) -> City | None:
    if not isinstance(value, dict):
        message = (
            'expected {"code": ..., "name": {"zh": ..., "en": ...}} (the 市 above the district)'
        )
        problems.append(Problem(source, "city", message))
        return None
    code = _code(value.get("code"), source, "city.code", problems)
    names = _names(value.get("name"), source, "city.name", problems)
    return City(code, *names) if code and names else None


def _district(value: Any, source: str, problems: list[Problem]) -> tuple[str, str, str, str] | None:
    if not isinstance(value, dict):
        message = 'expected {"code": ..., "name": {"zh": ..., "en": ...}, "time_zone": ...}'
        problems.append(Problem(source, "district", message))
        return None
    code = _code(value.get("code"), source, "district.code", problems)
    names = _names(value.get("name"), source, "district.name", problems)
    time_zone = value.get("time_zone")
    zone_ok = False
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        zone_ok = isinstance(time_zone, str) and ZoneInfo(time_zone) is not None
    if not zone_ok:
        hint = "an IANA time zone name such as Asia/Shanghai"
        problems.append(
            Problem(source, "district.time_zone", f"unknown time zone {time_zone!r} ({hint})")
        )
    if code is None or names is None or not zone_ok:
        return None
    assert isinstance(time_zone, str)
    return code, names[0], names[1], time_zone


def _features(
    value: Any,
    source: str,
    district: tuple[str, str, str, str] | None,
    problems: list[Problem],
) -> Iterator[tuple[Subdistrict, str]]:
    if not isinstance(value, list) or not value:
        problems.append(Problem(source, "features", "expected a list of subdistrict Features"))
        return
    for index, feature in enumerate(value):
        key = f"features[{index}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(source, f"{key}.type", "expected a GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            problems.append(Problem(source, f"{key}.properties", "expected code, name_zh, name_en"))
            continue
        code = _code(properties.get("code"), source, f"{key}.properties.code", problems)
        if code is not None:
            key = f"{key} ({code})"
        names = _names(
            {"zh": properties.get("name_zh"), "en": properties.get("name_en")},
            source,
            f"{key}.properties.name",
            problems,
        )
        area = geojson_area(feature.get("geometry"), source, f"{key}.geometry", problems)
        if code is None or names is None or area is None or district is None:
            continue
        point = area.centroid if area.contains(area.centroid) else area.representative_point()
        yield (
            Subdistrict(code, *names, district[0], round(point.y, 6), round(point.x, 6), area),
            key,
        )


def _cross_file_problems(files: list[_File]) -> Iterator[Problem]:
    """Duplicate codes and overlaps, within and across files; one city for all files."""
    first_city: _File | None = None
    districts: dict[str, str] = {}
    seen: dict[str, tuple[str, str]] = {}
    placed: list[tuple[Subdistrict, str, str]] = []
    for f in files:
        if first_city is None:
            first_city = f
        elif f.city != first_city.city:
            yield Problem(
                f.source,
                "city",
                f"names city {f.city.code!r} ({f.city.zh}) but {first_city.source} names "
                f"{first_city.city.code!r} ({first_city.city.zh}): one deployment is one city",
            )
        if f.district.code in districts:
            earlier = districts[f.district.code]
            message = f"duplicate district code {f.district.code!r}: already in {earlier}"
            yield Problem(f.source, "district.code", message)
        districts.setdefault(f.district.code, f.source)
        for sub, key in f.subdistricts:
            if sub.code in seen:
                other_source, other_key = seen[sub.code]
                earlier = f"{other_key} of {other_source}"
                message = f"duplicate subdistrict code {sub.code!r}: already {earlier}"
                yield Problem(f.source, f"{key}.properties.code", message)
                continue
            seen[sub.code] = (f.source, key)
            placed.append((sub, key, f.source))
    yield from _overlaps(placed)


def _overlaps(placed: list[tuple[Subdistrict, str, str]]) -> Iterator[Problem]:
    areas = [sub.area for sub, _, _ in placed]
    tree = shapely.STRtree(areas)
    for i, (sub, key, source) in enumerate(placed):
        for j in sorted(int(j) for j in tree.query(sub.area, predicate="intersects")):
            if j <= i:
                continue
            other, other_key, other_source = placed[j]
            shared = sub.area.intersection(other.area).area
            if shared <= OVERLAP_TOLERANCE * min(sub.area.area, other.area.area):
                continue
            square_m = shared * _M_PER_DEGREE**2 * math.cos(math.radians(sub.lat))
            where = other_key if other_source == source else f"{other_key} of {other_source}"
            message = f"overlaps subdistrict {other.code!r} ({where}) by about {square_m:,.0f} m²"
            yield Problem(source, f"{key}.geometry", message)
