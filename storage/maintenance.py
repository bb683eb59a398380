"""The platform's storage scheduler: partitions ahead, rollup refresh, retention.

Retention covers the readings' partitions, the rollups and the ingest activity per minute
(`storage.activity`), which is kept as long as the 1-minute rollups.

On TimescaleDB the database's own job scheduler does all three (see `timescale.py`); on plain
PostgreSQL this loop does. `now` is a parameter so tests can step time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from storage.activity import prune_activity
from storage.backend import Backend
from storage.errors import StorageError
from storage.partitions import drop_partitions_before, ensure_partitions_ahead
from storage.policy import StoragePolicy
from storage.pool import connection
from storage.rollups import RefreshResult, refresh_rollups

log = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    partitions_created: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    rollups: list[RefreshResult] = field(default_factory=list)
    rollup_rows_deleted: int = 0
    activity_rows_deleted: int = 0


class Maintenance:
    def __init__(self, pool: asyncpg.Pool, backend: Backend, policy: StoragePolicy) -> None:
        self._pool = pool
        self._backend = backend
        self._policy = policy

    async def run_once(self, now: datetime) -> MaintenanceReport:
        report = MaintenanceReport()
        if self._backend is Backend.TIMESCALEDB:
            return report
        async with connection(self._pool, "storage maintenance") as conn:
            policy = self._policy
            report.partitions_created = await ensure_partitions_ahead(
                conn, now, policy.partitions_ahead_days
            )
            report.rollups = await refresh_rollups(conn, self._backend, now)
            report.partitions_dropped = await drop_partitions_before(
                conn, now - policy.raw_retention
            )
            for table, keep in (
                ("rollup_1m", policy.rollup_1m_retention),
                ("rollup_1h", policy.rollup_1h_retention),
            ):
                status = await conn.execute(f"DELETE FROM {table} WHERE bucket < $1", now - keep)
                report.rollup_rows_deleted += int(status.rsplit(" ", 1)[-1])
            report.activity_rows_deleted = await prune_activity(
                conn, now - policy.rollup_1m_retention
            )
        return report

    async def run_forever(
        self, interval_s: float, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        """Run every `interval_s`; a failed pass is logged and retried on the next tick."""
        while True:
            try:
                report = await self.run_once(clock())
                if report.partitions_created or report.partitions_dropped:
                    log.info(
                        "partitions created %s, dropped %s",
                        report.partitions_created,
                        report.partitions_dropped,
                    )
            except StorageError as error:
                log.warning("storage maintenance failed, retrying next tick: %s", error)
            await asyncio.sleep(interval_s)
