"""Query and path parameters shared by several endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

from gateway.errors import Invalid
from gateway.pagination import MAX_LIMIT
from schemas.geography import Geography

# A subdistrict's code as a query parameter: any configured one (the geography is configuration,
# so the OpenAPI document lists no enum); `known_subdistrict` refuses the others by name.
SubdistrictCode = Annotated[
    str | None, Query(max_length=64, description="A subdistrict's code (see the geography)")
]


def known_subdistrict(geography: Geography, code: str | None) -> str | None:
    """`code` if it is a configured subdistrict (or None); else a 422 naming the known codes."""
    if code is not None and code not in geography:
        known = geography.known_codes()
        raise Invalid(
            f"subdistrict: unknown subdistrict {code!r} (one of {known})", field="subdistrict"
        )
    return code


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
