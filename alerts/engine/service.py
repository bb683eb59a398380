"""`cityvitals alerts`: the engine as a service, safe to run as two replicas.

Leadership is a PostgreSQL advisory lock held by one dedicated connection. The leader runs the
ticks on that very connection, so a replica that lost its session (network split, database
restart) cannot commit a tick after another took over: its writes fail with the session. The
standby tries the lock every `standby_poll` seconds and, once it gets it, resumes from the
database like a restarted engine: pending timers, the notification log, the outbox.

Ticks are aligned to multiples of `tick` on the wall clock, as Prometheus aligns rule groups, so
two replicas (and restarts) evaluate at the same instants. Rule files and the receivers file
are checked every `reload_interval`; a broken file is logged with every problem and the rules
in force stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from alerts import store
from alerts.engine.core import EngineCore, TickReport
from alerts.engine.metrics import AlertMetrics
from alerts.engine.outbox import Outbox
from alerts.errors import ReceiversError, RuleError
from alerts.notify.receivers import load_routing
from alerts.rules.files import YAML_SUFFIXES, load_rule_files, reload
from schemas.geography import Geography, load_geography
from schemas.registry import Registry
from storage.errors import is_transient
from storage.type_specs import TypesVersion, load_stored_registry, types_version

__all__ = ["Engine", "EngineConfig"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EngineConfig:
    database_url: str
    rules_dir: Path
    receivers_path: Path | None = None
    tick_s: float = 1.0
    lateness_s: float = 60.0
    reload_interval_s: float = 5.0
    standby_poll_s: float = 1.0
    name: str = "cityvitals-alerts"
    external_url: str = ""
    delivery_concurrency: int = 8
    delivery_poll_s: float = 0.5
    geography: Geography = field(default_factory=load_geography)


@dataclass
class _Watched:
    """A file or folder whose content signature is compared on every reload check."""

    path: Path | None
    signature: tuple[tuple[str, int, int], ...] = field(default=())

    def changed(self) -> bool:
        current = _signature(self.path)
        if current == self.signature:
            return False
        self.signature = current
        return True


def _signature(path: Path | None) -> tuple[tuple[str, int, int], ...]:
    if path is None or not path.exists():
        return ()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for file in files:
        if file.suffix in YAML_SUFFIXES or file == path:
            stat = file.stat()
            out.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        pool: asyncpg.Pool,
        registry: Registry,
        *,
        clock: Clock = _utcnow,
        metrics: AlertMetrics | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.pool = pool
        self.registry = registry
        self.clock = clock
        self.metrics = metrics or AlertMetrics()
        self.http = http
        # broken at start: refuse to run
        rules = load_rule_files(registry, config.rules_dir, config.geography)
        routing = (
            load_routing(
                config.receivers_path, domains=registry.domains, geography=config.geography
            )
            if config.receivers_path
            else None
        )
        self.core = EngineCore(
            registry,
            rules,
            routing,
            lateness=timedelta(seconds=config.lateness_s),
            external_url=config.external_url,
            geography=config.geography,
        )
        self._rules_file = _Watched(config.rules_dir, _signature(config.rules_dir))
        self._receivers_file = _Watched(config.receivers_path, _signature(config.receivers_path))
        self._types_version: TypesVersion | None = None
        self._stopping = asyncio.Event()
        self._wake_delivery = asyncio.Event()
        self.leading = asyncio.Event()
        self.last_report: TickReport | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Stand by or lead until stop(); a lost leadership goes back to standing by."""
        own_http = self.http is None
        http = self.http or httpx.AsyncClient()
        try:
            while not self._stopping.is_set():
                try:
                    await self._one_term(http)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                    self.leading.clear()
                    self.metrics.leader.set(0)
                    log.warning("lost the database (%s); standing by", error)
                    await self._sleep(self.config.standby_poll_s)
        finally:
            if own_http:
                await http.aclose()

    async def _one_term(self, http: httpx.AsyncClient) -> None:
        conn = await asyncpg.connect(
            self.config.database_url,
            server_settings={"application_name": f"cityvitals-alerts:{self.config.name}"},
        )
        try:
            while not await store.try_to_lead(conn):
                await self._heartbeat(conn, leader=False)
                if await self._sleep(self.config.standby_poll_s):
                    return
            log.info("engine %s leads: resuming from the database", self.config.name)
            await self.core.resume(conn, self.clock())
            self.leading.set()
            self.metrics.leader.set(1)
            delivery = asyncio.create_task(self._deliver_forever(http))
            try:
                await self._lead(conn)
            finally:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
                self.leading.clear()
                self.metrics.leader.set(0)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        next_reload = time.monotonic()  # types posted to the gateway may differ from the files
        while not self._stopping.is_set():
            if time.monotonic() >= next_reload:
                await self._reload(conn)
                next_reload = time.monotonic() + self.config.reload_interval_s
            now = self._aligned(self.clock())
            started = time.perf_counter()
            try:
                report = await self.core.tick(conn, now)
            except Exception as error:
                if isinstance(error, OSError | asyncpg.InterfaceError) or is_transient(error):
                    raise  # the session is gone: leadership with it
                log.exception("tick at %s failed; retrying on the next tick", now.isoformat())
                self.metrics.tick_failures.inc()
                await self._sleep(self.config.tick_s)
                continue
            elapsed = time.perf_counter() - started
            self._record(report, elapsed)
            await self._heartbeat(conn, leader=True, tick_s=elapsed, at=now)
            if report.notifications:
                self._wake_delivery.set()
            await self._sleep(self._until_next_tick())

    def _record(self, report: TickReport, elapsed: float) -> None:
        self.last_report = report
        self.metrics.tick_seconds.observe(elapsed)
        self.metrics.readings.inc(report.readings)
        for kind in report.kinds:
            self.metrics.transitions.labels(kind).inc()
        self.metrics.notifications_planned.inc(len(report.notifications))
        self.metrics.active.set(self.core.active_count())

    def _aligned(self, moment: datetime) -> datetime:
        """The tick's own instant (a multiple of `tick`), not when the loop woke up: timers then
        run in whole ticks, identically on every replica and across restarts."""
        tick = self.config.tick_s
        return datetime.fromtimestamp(moment.timestamp() // tick * tick, UTC)

    def _until_next_tick(self) -> float:
        tick = self.config.tick_s
        return tick - (time.time() % tick)

    async def _reload(self, conn: asyncpg.Connection) -> None:
        version = await types_version(conn)
        types_changed = version != self._types_version
        if types_changed:
            self._types_version = version
            registry = await load_stored_registry(conn)
            if registry.types != self.core.registry.types:
                self._use_registry(registry)
                await self.core.reload_catalog(conn)
        if self._rules_file.changed():
            result = reload(self.core.rules, self.config.rules_dir, self.config.geography)
            if isinstance(result, list):
                self.metrics.reload_failures.inc()
                lines = "\n".join(f"  {p}" for p in result)
                log.error("rule files rejected, the rules in force stay:\n%s", lines)
            else:
                changed = self.core.replace_rules(result)
                log.info("rule files reloaded: %d rules, %d changed", len(result), len(changed))
        if self._receivers_file.changed() and self.config.receivers_path is not None:
            try:
                self.core.routing = load_routing(
                    self.config.receivers_path,
                    domains=self.core.registry.domains,
                    geography=self.config.geography,
                )
                log.info("receivers reloaded from %s", self.config.receivers_path)
            except ReceiversError as error:
                self.metrics.reload_failures.inc()
                log.error("receivers file rejected, the routes in force stay:\n%s", error)
        await self.core.refresh_catalog(conn)

    def _use_registry(self, registry: Registry) -> None:
        """Sensor types changed in the database (posted to the gateway): their default rules
        follow. Rule files that no longer fit the new types keep the old set in force."""
        try:
            rules = load_rule_files(registry, self.config.rules_dir, self.config.geography)
        except RuleError as error:
            self.metrics.reload_failures.inc()
            log.error("sensor types changed but the rule files do not fit them:\n%s", error)
            return
        self.core.registry = registry
        changed = self.core.replace_rules(rules)
        log.info("sensor types reloaded: %d types, %d rules changed", len(registry), len(changed))

    async def _heartbeat(
        self,
        conn: asyncpg.Connection,
        *,
        leader: bool,
        tick_s: float | None = None,
        at: datetime | None = None,
    ) -> None:
        await store.heartbeat(
            conn,
            self.config.name,
            leader=leader,
            tick_at=at,
            tick_s=tick_s,
            active_alerts=self.core.active_count() if leader else None,
        )

    async def _deliver_forever(self, http: httpx.AsyncClient) -> None:
        outbox = Outbox(self.pool, http, concurrency=self.config.delivery_concurrency)
        while True:
            try:
                sent = await outbox.deliver_due(self.core.routing)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox unavailable (%s); retrying", error)
                sent = 0
            for outcome, count in outbox.counts.items():
                self.metrics.deliveries.labels(outcome).set(count)
            if sent:
                continue  # more may be due
            self._wake_delivery.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_delivery.wait(), self.config.delivery_poll_s)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when stop() was called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max(seconds, 0.0))
        return self._stopping.is_set()
