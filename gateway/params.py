"""Query and path parameters shared by several endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

from gateway.errors import Invalid
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

# The instants the API takes: from the Unix epoch (no reading, alert or audit line is older) to
# the year 3000. Checked where they enter, so no query, bucket alignment or conversion to UTC
# meets the ends of the calendar: 9999-12-31T23:59:59-14:00 is past the year 9999 in UTC, and
# 0001-01-01T00:00:00+14:00 before the year 1, which Python's datetime cannot hold.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_SPAN = f"from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)"


def _inside(moment: datetime) -> bool:
    # Comparing aware datetimes converts neither, so this holds at the calendar's ends too.
    return EARLIEST <= moment < LATEST


def within_calendar(moment: datetime) -> datetime:
    if not _inside(moment):
        raise PydanticCustomError("out_of_range", f"must lie {_SPAN}")
    return moment


def check_moment(moment: datetime, field: str) -> datetime:
    """`within_calendar` for an instant that came inside another value (a cursor)."""
    if not _inside(moment):
        raise Invalid(f"{field}: its time must lie {_SPAN}", field=field)
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(within_calendar)]
Start = Annotated[Moment, Query(description=f"Inclusive; ISO 8601 with a UTC offset, {_SPAN}")]
End = Annotated[Moment | None, Query(description="Exclusive; default: now")]
Since = Annotated[
    Moment | None, Query(description=f"Inclusive; ISO 8601 with a UTC offset, {_SPAN}")
]
Until = Annotated[Moment | None, Query(description="Exclusive")]
