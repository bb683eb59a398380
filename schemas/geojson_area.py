"""A GeoJSON Polygon or MultiPolygon made a shapely shape, with every problem named by key.

Checked before shapely sees it: shapely closes an open ring silently and accepts positions
outside WGS-84, and a geography file with either is wrong (a ring GeoJSON requires closed, a
subdistrict somewhere in the sea)."""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from schemas.errors import Problem

Area = Polygon | MultiPolygon


def geojson_area(value: Any, source: str, key: str, problems: list[Problem]) -> Area | None:
    """A Polygon or MultiPolygon from GeoJSON, checked before shapely sees it: shapely closes an
    open ring silently, and a GeoJSON ring must be closed."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append(
            Problem(source, f"{key}.type", f"expected Polygon or MultiPolygon, got {kind!r}")
        )
        return None
    assert isinstance(value, dict)
    coordinates = value.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        problems.append(Problem(source, f"{key}.coordinates", "expected a list of rings"))
        return None
    shapes: list[Polygon] = []
    for p, rings in enumerate(polygons):
        where = f"{key}.coordinates" + (f"[{p}]" if kind == "MultiPolygon" else "")
        checked = _rings(rings, source, where, problems)
        if checked is not None:
            shapes.append(Polygon(checked[0], checked[1:]))
    if len(shapes) != len(polygons):
        return None
    area: Area = shapes[0] if kind == "Polygon" else MultiPolygon(shapes)
    if not area.is_valid:
        problems.append(Problem(source, key, f"invalid {kind}: {explain_validity(area)}"))
        return None
    return area


def _rings(
    rings: Any, source: str, key: str, problems: list[Problem]
) -> list[list[tuple[float, float]]] | None:
    if not isinstance(rings, list) or not rings:
        problems.append(Problem(source, key, "expected a list of linear rings"))
        return None
    checked: list[list[tuple[float, float]]] = []
    for r, ring in enumerate(rings):
        where = f"{key}[{r}]"
        if not isinstance(ring, list) or len(ring) < 4:
            problems.append(Problem(source, where, "a linear ring needs at least 4 positions"))
            continue
        points: list[tuple[float, float]] = []
        for position in ring:
            if not _position(position):
                problems.append(Problem(source, where, f"bad position {position!r}: [lon, lat]"))
                break
            points.append((float(position[0]), float(position[1])))
        else:
            if points[0] != points[-1]:
                problems.append(
                    Problem(
                        source,
                        where,
                        f"ring is not closed: starts at {list(points[0])}, "
                        f"ends at {list(points[-1])} (GeoJSON repeats the first position last)",
                    )
                )
                continue
            checked.append(points)
    return checked if len(checked) == len(rings) else None


def _position(value: Any) -> bool:
    if not isinstance(value, list) or len(value) not in (2, 3):
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return False
    lon, lat = value[0], value[1]
    return math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
