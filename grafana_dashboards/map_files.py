"""The overview map's own layer: the subdistrict polygons of the geography as a GeoJSON file that
Grafana serves itself, so the map shows the district on a network without internet access.

`cityvitals grafana export` writes the file next to the dashboards
(`maps/subdistricts.geojson`); deploy/ mounts that folder into Grafana's static files
(`/usr/share/grafana/public/maps/cityvitals`), where the map panel's GeoJSON layer loads it from
`GRAFANA_SRC`. The file follows the geography
the walls are exported for (several districts: all their subdistricts).
"""

from __future__ import annotations

import json
from typing import Any

from shapely.geometry import mapping

from schemas.geography import Geography

__all__ = ["GRAFANA_SRC", "MAP_FILES_DIR", "SUBDISTRICTS_FILE", "map_files", "subdistricts_geojson"]

MAP_FILES_DIR = "maps"  # relative to the dashboards' folder, beside zh/ and en/
SUBDISTRICTS_FILE = f"{MAP_FILES_DIR}/subdistricts.geojson"
# Where Grafana serves the mounted folder: a path relative to Grafana's root URL, like Grafana's
# own bundled maps (`public/maps/countries.geojson`), so a sub-path deployment still finds it.
GRAFANA_SRC = "public/maps/cityvitals/subdistricts.geojson"


def subdistricts_geojson(geography: Geography) -> dict[str, Any]:
    """A FeatureCollection: one Feature per subdistrict (configuration order) with the
    properties the map shows and links by (`code`, `name_zh`, `name_en`, `district`)."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": sub.code,
                "name_zh": sub.zh,
                "name_en": sub.en,
                "district": sub.district,
            },
            "geometry": mapping(sub.area),
        }
        for sub in geography
    ]
    return {"type": "FeatureCollection", "features": features}


def map_files(geography: Geography) -> dict[str, str]:
    """Relative file name -> content, for `export` to write and `differences` to compare."""
    # Compact: Grafana downloads the file on every map load; one feature per line keeps diffs
    # readable all the same. json.dumps turns shapely's coordinate tuples into arrays.
    collection = subdistricts_geojson(geography)
    lines = ",\n".join(
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    )
    return {SUBDISTRICTS_FILE: f'{{"type":"FeatureCollection","features":[\n{lines}\n]}}\n'}
