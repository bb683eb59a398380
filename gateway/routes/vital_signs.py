"""The city's vital signs now: per domain, district-wide and per subdistrict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from gateway.auth import viewer
from gateway.domain_param import DomainCode
from gateway.models_city import VitalSigns
from gateway.openapi import errors
from gateway.state import get_state
from storage.api_keys import ApiKey

router = APIRouter(prefix="/v1/vital-signs", tags=["vital signs"])


@router.get("", response_model=VitalSigns, responses=errors())
async def current(
    request: Request, _: Annotated[ApiKey, Depends(viewer)], domain: DomainCode = None
) -> VitalSigns:
    """Per domain, for the city, each configured district and each subdistrict: sensors,
    online and offline, firing alerts by grade, and per metric the count, average, minimum,
    maximum and sum of the sensors' current values (current: younger than 3 reporting
    intervals). Computed at most every gateway.vital_signs_ttl for everyone. Role: viewer."""
    return await get_state(request).vital_signs.current(domain)
