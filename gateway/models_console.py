"""Bodies of the endpoints the ops console starts from: who the key is, and the map."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gateway.models import example


class WhoAmI(BaseModel):
    model_config = example({"id": "k3f9a1", "name": "duty-officer-li", "role": "operator"})

    id: str = Field(description="The key's id (the part after cvk_)")
    name: str = Field(description="The name actions are recorded under")
    role: str = Field(description="viewer, operator or admin")


class PlaceName(BaseModel):
    code: str
    name_zh: str
    name_en: str


class DistrictName(PlaceName):
    time_zone: str
    subdistricts: list[str] = Field(description="Its subdistricts' codes, in configured order")


class GeographyOut(BaseModel):
    model_config = example(
        {
            "city": {"code": "shanghai", "name_zh": "上海市", "name_en": "Shanghai"},
            "districts": [
                {
                    "code": "hongkou",
                    "name_zh": "虹口区",
                    "name_en": "Hongkou District",
                    "time_zone": "Asia/Shanghai",
                    "subdistricts": ["tilanqiao"],
                }
            ],
            "subdistricts": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "tilanqiao",
                        "properties": {
                            "code": "tilanqiao",
                            "name_zh": "提篮桥街道",
                            "name_en": "Tilanqiao Subdistrict",
                            "district": "hongkou",
                            "label_point": [121.4985, 31.2545],
                        },
                        "geometry": {"type": "Polygon", "coordinates": [[[121.5, 31.3]]]},
                    }
                ],
            },
        }
    )

    city: PlaceName
    districts: list[DistrictName]
    subdistricts: dict[str, Any] = Field(
        description=(
            "A GeoJSON FeatureCollection: one Feature per configured subdistrict (properties "
            "code, name_zh, name_en, district and label_point, [lon, lat] inside it for labels)"
        )
    )
