"""Time buckets aligned the way TimescaleDB's time_bucket and PostgreSQL's date_bin align them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# time_bucket's default origin (a Monday); date_bin is given the same so both backends agree.
ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
ORIGIN_SQL = "TIMESTAMPTZ '2000-01-03 00:00+00'"


def bucket_start(moment: datetime, width: timedelta) -> datetime:
    return ORIGIN + ((moment - ORIGIN) // width) * width


def bucket_end(moment: datetime, width: timedelta) -> datetime:
    """The first bucket boundary at or after `moment`."""
    start = bucket_start(moment, width)
    return start if start == moment else start + width
