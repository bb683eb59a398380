"""Daily range partitions of `readings` on plain PostgreSQL (UTC days).

Partitions are created ahead by the maintenance scheduler, and on demand by the writer when a
reading falls on a day that has none (a late or backfilled reading). Retention drops whole
partitions, which is instant and leaves no bloat, unlike DELETE.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

_NAME = re.compile(r"^readings_p(\d{8})$")
# Serialises partition DDL between writers and the scheduler; a constant of our own.
_LOCK_KEY = 0x63_69_74_79_70_31


def partition_name(day: date) -> str:
    return f"readings_p{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


async def existing_partition_days(conn: asyncpg.Connection) -> set[date]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'readings'::regclass"
    )
    days = set()
    for row in rows:
        match = _NAME.match(row["relname"])
        if match:
            days.add(datetime.strptime(match.group(1), "%Y%m%d").date())
    return days


async def ensure_partitions(conn: asyncpg.Connection, days: set[date]) -> list[str]:
    """Create the partitions for `days` that are missing; returns the names created."""
    missing = days - await existing_partition_days(conn)
    if not missing:
        return []
    created = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        # Re-read under the lock: another process may have created some meanwhile.
        missing = days - await existing_partition_days(conn)
        for day in sorted(missing):
            start, end = day_start(day), day_start(day + timedelta(days=1))
            await conn.execute(
                f"CREATE TABLE {partition_name(day)} PARTITION OF readings "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            created.append(partition_name(day))
    return created


async def ensure_partitions_ahead(
    conn: asyncpg.Connection, now: datetime, days_ahead: int
) -> list[str]:
    today = now.astimezone(UTC).date()
    return await ensure_partitions(conn, {today + timedelta(days=n) for n in range(days_ahead + 1)})


def days_between(lo: datetime, hi: datetime) -> set[date]:
    first, last = lo.astimezone(UTC).date(), hi.astimezone(UTC).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


async def drop_partitions_before(conn: asyncpg.Connection, cutoff: datetime) -> list[str]:
    """Drop partitions whose whole day lies before `cutoff`; returns the names dropped."""
    dropped = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        for day in sorted(await existing_partition_days(conn)):
            if day_start(day + timedelta(days=1)) <= cutoff:
                await conn.execute(f"DROP TABLE {partition_name(day)}")
                dropped.append(partition_name(day))
    return dropped
