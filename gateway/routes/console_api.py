"""What the ops console starts from: who the key is (/v1/whoami) and the map (/v1/geography)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from shapely.geometry import mapping

from gateway.auth import viewer
from gateway.models_console import DistrictName, GeographyOut, PlaceName, WhoAmI
from gateway.openapi import errors
from gateway.state import get_state
from schemas.geography import Geography
from storage.api_keys import ApiKey

router = APIRouter(prefix="/v1", tags=["console"])


@router.get("/whoami", response_model=WhoAmI, responses=errors())
async def whoami(key: Annotated[ApiKey, Depends(viewer)]) -> WhoAmI:
    """The key's name and role, so a client shows only what the role may do (the API refuses
    the rest anyway). Role: viewer."""
    return WhoAmI(id=key.id, name=key.name, role=key.role)


@router.get("/geography", response_model=GeographyOut, responses=errors())
async def geography(request: Request, _: Annotated[ApiKey, Depends(viewer)]) -> dict[str, Any]:
    """The configured city, districts and subdistricts; the subdistricts' polygons as a GeoJSON
    FeatureCollection (WGS-84), for maps. Role: viewer."""
    body: dict[str, Any] | None = getattr(request.app.state, "geography_body", None)
    if body is None:  # the geography is fixed at start: built once per app
        body = geography_body(get_state(request).geography)
        request.app.state.geography_body = body
    return body


def geography_body(places: Geography) -> dict[str, Any]:
    city = PlaceName(code=places.city.code, name_zh=places.city.zh, name_en=places.city.en)
    districts = [
        DistrictName(
            code=d.code,
            name_zh=d.zh,
            name_en=d.en,
            time_zone=d.time_zone,
            subdistricts=list(d.subdistricts),
        )
        for d in places.districts.values()
    ]
    features = [
        {
            "type": "Feature",
            "id": s.code,
            "properties": {
                "code": s.code,
                "name_zh": s.zh,
                "name_en": s.en,
                "district": s.district,
                "label_point": [s.lon, s.lat],
            },
            "geometry": mapping(s.area),
        }
        for s in places
    ]
    return GeographyOut(
        city=city,
        districts=districts,
        subdistricts={"type": "FeatureCollection", "features": features},
    ).model_dump(mode="json")
