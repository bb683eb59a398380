"""Query and path parameters shared by several endpoints."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Query

from gateway.pagination import MAX_LIMIT
from schemas.districts import SUBDISTRICTS


class SubdistrictCode(StrEnum):
    """Yangpu's 12 subdistricts (schemas/districts.py)."""

    DINGHAI_ROAD = "dinghai_road"
    PINGLIANG_ROAD = "pingliang_road"
    JIANGPU_ROAD = "jiangpu_road"
    DAQIAO = "daqiao"
    SIPIN_ROAD = "sipin_road"
    KONGJIANG_ROAD = "kongjiang_road"
    CHANGBAI_XINCUN = "changbai_xincun"
    YANJI_XINCUN = "yanji_xincun"
    WUJIAOCHANG = "wujiaochang"
    CHANGHAI_ROAD = "changhai_road"
    YINHANG = "yinhang"
    XINJIANGWANCHENG = "xinjiangwancheng"


assert {s.value for s in SubdistrictCode} == {s.code for s in SUBDISTRICTS}, "districts.py moved"

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="Page size (capped at gateway.max_page)")
]
Cursor = Annotated[str | None, Query(max_length=500, description="`next` of the previous page")]
TypeName = Annotated[str | None, Query(max_length=64, description="Sensor type name")]
