"""How long data is kept and how far ahead storage is prepared; mapped from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class StoragePolicy:
    partitions_ahead_days: int = 7
    raw_retention: timedelta = timedelta(days=90)
    rollup_1m_retention: timedelta = timedelta(days=90)
    rollup_1h_retention: timedelta = timedelta(days=5 * 365)
    # TimescaleDB only: chunks older than this are compressed (segmented by sensor).
    compress_after: timedelta = timedelta(days=7)
    # TimescaleDB refresh policies look back this far; late data older than this reaches the
    # continuous aggregates at the next manual refresh (the PostgreSQL path has no such limit).
    late_data_horizon: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.partitions_ahead_days < 1:
            raise ValueError("partitions_ahead_days must be at least 1")
        if self.late_data_horizon >= self.raw_retention:
            # A refresh window reaching into dropped raw data would empty the aggregates there.
            raise ValueError("late_data_horizon must be shorter than raw_retention")
