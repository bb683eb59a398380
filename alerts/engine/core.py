"""The engine's memory and its tick: read what is new, step the rules, commit, then believe it.

`EngineCore.tick(conn, now)` is the whole evaluation, with time passed in (tests step it; the
service calls it on an aligned clock). A tick computes the next state of every changed alert,
the messages it causes and the notification log's next state, writes all of it in one
transaction, and only then replaces what it holds in memory. A tick whose commit fails leaves
memory as the database is, and the next tick recomputes the same transitions at its own `now`:
no transition is lost, and a pending alert whose hold ran out while the database was down fires
on the first tick that can commit.

Memory holds only what matters between ticks: pending and firing alerts (inactive and resolved
ones are rows in the database, nothing more), the notification pool (firing alerts and resolved
ones whose message is still due), the notification log and escalation states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from alerts import store
from alerts.engine.bindings import Binding, bind_rules
from alerts.engine.city import City
from alerts.engine.describe import describe
from alerts.engine.evaluator import Change, evaluate
from alerts.engine.zones import ZoneOf, by_district
from alerts.model import Alert, Phase, Transition
from alerts.notify import Notification, NotifyAlert
from alerts.notify.escalation import EscalationState
from alerts.notify.escalation_plan import plan_escalations, states_from_json, states_to_json
from alerts.notify.planning import GroupRecord, plan_notifications
from alerts.notify.receivers import Routing
from alerts.notify.silences import Silence, alert_labels, is_silenced
from alerts.rules.rule import ConditionKind
from alerts.rules.rule_set import RuleSet, changed_rule_ids
from schemas.geography import Geography, load_geography
from schemas.registry import Registry
from storage.catalog import CatalogVersion, catalog_version, load_catalog
from storage.recent import (
    RecentReadings,
    latest_before,
    readings_between,
    unchanged_since,
    window_stats,
)

__all__ = ["EngineCore", "TickReport"]

log = logging.getLogger(__name__)

# Readings are committed a little after their own timestamp (batching, network); each tick
# re-reads this much before the previous one so none falls between two ticks.
COMMIT_SLACK = timedelta(seconds=2)
RESUME_LOOKBACK = timedelta(days=1)
_OPS_FIELDS = ("ops", "acknowledged_by", "acknowledged_at", "assignee", "note", "closed_at")


@dataclass
class TickReport:
    at: datetime
    readings: int = 0
    stepped: int = 0
    transitions: list[tuple[str, Transition]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    alerts: dict[str, Alert] = field(default_factory=dict)  # changed alerts by fingerprint

    @property
    def kinds(self) -> list[str]:
        return [t.kind for _, t in self.transitions]


@dataclass
class _Pending:
    """A tick's results before they are committed."""

    rows: dict[str, tuple[Alert | None, Alert, dict[str, Any]]] = field(default_factory=dict)
    transitions: list[tuple[str, Transition]] = field(default_factory=list)
    pool: dict[str, NotifyAlert] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    records: dict[str, GroupRecord] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)
    escalations: dict[str, dict[str, EscalationState]] = field(default_factory=dict)
    ops: dict[str, Alert] = field(default_factory=dict)


class EngineCore:
    def __init__(
        self,
        registry: Registry,
        rules: RuleSet,
        routing: Routing | None,
        *,
        lateness: timedelta = timedelta(seconds=60),
        external_url: str = "",
        geography: Geography | None = None,
        zone_of: ZoneOf | None = None,
    ) -> None:
        self.registry = registry
        # Tests and benchmarks leave it out: the shipped default geography.
        self.geography = geography or load_geography()
        # Schedules are read in each district's zone unless the caller says otherwise.
        self.zone_of = zone_of or by_district(self.geography)
        self.rules = rules
        self.routing = routing
        self.lateness = lateness
        self.external_url = external_url
        self.city: City | None = None
        self.catalog_version: CatalogVersion | None = None
        self.bindings: list[Binding] = []
        self.active: dict[str, dict[str, Alert]] = {}
        self.pool: dict[str, NotifyAlert] = {}
        self.records: dict[str, GroupRecord] = {}
        self.escalations: dict[str, dict[str, EscalationState]] = {}
        self.ops_seq = 0
        self.read_until: datetime | None = None
        self.swept_at: datetime | None = None
        self.silences: list[Silence] = []

    # --- start-up -----------------------------------------------------------------------------

    async def resume(self, conn: asyncpg.Connection, now: datetime) -> None:
        """Rebuild memory from the database: alerts with their timers, the notification log,
        and the newest reading of every series."""
        await self.reload_catalog(conn)
        assert self.city is not None
        self.city.merge(await latest_before(conn, now, RESUME_LOOKBACK))
        await self._resume_flatlines(conn, now)
        self.active, self.escalations, self.pool = {}, {}, {}
        for alert, escalation, _ in await store.load_active_alerts(conn):
            self.active.setdefault(alert.rule_id, {})[alert.subject.id] = alert
            if escalation:
                self.escalations[alert.fingerprint] = states_from_json(escalation)
            if alert.phase is Phase.FIRING:
                self._add_to_pool(alert, self.pool, now)
        self.ops_seq = await store.last_ops_seq(conn)
        self.records = await store.load_groups(conn)
        announced = {fp for r in self.records.values() for fp in r.firing} - self.pool.keys()
        if announced:  # resolved while we were down (or just before): their message is due
            for alert in await store.load_alerts(conn, announced):
                self._add_to_pool(alert, self.pool, now)
        self.read_until = now
        self.swept_at = None
        log.info(
            "resumed: %d sensors, %d rules bound, %d active alerts, %d notification groups",
            len(self.city),
            len(self.bindings),
            sum(len(a) for a in self.active.values()),
            len(self.records),
        )

    async def _resume_flatlines(self, conn: asyncpg.Connection, now: datetime) -> None:
        """How long each watched value has been stuck, from the stored history: otherwise a
        restart would start every flatline timer afresh (and resolve stuck-sensor alerts)."""
        assert self.city is not None
        for binding in self.bindings:
            cond = binding.rule.condition
            if cond.kind is not ConditionKind.FLATLINE or binding.metric_id is None:
                continue
            assert cond.unchanged_for is not None
            lookback = now - 2 * cond.unchanged_for
            db_ids, since = await unchanged_since(conn, binding.metric_id, lookback, now)
            index = self.city.sensor_index(db_ids)
            known = index >= 0
            series = self.city.series_for(index[known], binding.metric_id)
            self.city.changed_at[series] = since[known]

    async def refresh_catalog(self, conn: asyncpg.Connection) -> bool:
        """Reload the catalogue if sensors were added or changed since it was loaded (one cheap
        query otherwise); True when it was reloaded."""
        if await catalog_version(conn) == self.catalog_version:
            return False
        await self.reload_catalog(conn)
        return True

    async def reload_catalog(self, conn: asyncpg.Connection) -> None:
        self.catalog_version = await catalog_version(conn)
        city = City(await load_catalog(conn), self.registry, self.geography)
        if self.city is not None:
            city.carry_over(self.city)
        self.city = city
        self.bindings = bind_rules(self.rules, city)

    def replace_rules(self, rules: RuleSet) -> frozenset[str]:
        """Use `rules` from the next tick on; alerts of unchanged rules keep their state, those
        of changed rules are re-evaluated under the new definition, those of removed rules are
        retired on the next tick. Returns the changed rule ids."""
        changed = changed_rule_ids(self.rules, rules)
        self.rules = rules
        if self.city is not None:
            self.bindings = bind_rules(rules, self.city)
        return changed

    # --- the tick -----------------------------------------------------------------------------

    async def tick(self, conn: asyncpg.Connection, now: datetime) -> TickReport:
        assert self.city is not None, "resume() first"
        report = TickReport(at=now)
        report.readings = await self._read(conn, now)
        windows = {
            key: await window_stats(conn, key.metric_id, now - timedelta(seconds=key.window_s), now)
            for key in {b.window for b in self.bindings if b.window is not None}
        }
        pending = _Pending()
        await self._take_ops_changes(conn, pending)
        self.silences = await store.load_silences(conn, now)
        active = self._with_ops(pending, now)
        evaluation = evaluate(self.bindings, self.city, active, windows, now, self.zone_of)
        report.stepped = evaluation.stepped
        changes = evaluation.changes + self._retire_orphans(active, now)
        pool = dict(self.pool)
        pool.update(pending.pool)  # acknowledgements show in the next messages
        for change in changes:
            self._stage(change, pool, pending, now)
        self._plan(pool, now, pending)
        async with conn.transaction():
            await store.upsert_alerts(conn, list(pending.rows.values()), now)
            await store.insert_transitions(conn, pending.transitions)
            await store.enqueue(conn, pending.notifications)
            await store.save_groups(conn, pending.records, pending.forgotten)
        self._commit(active, changes, pool, pending)
        report.transitions = pending.transitions
        report.notifications = pending.notifications
        report.alerts = {c.after.fingerprint: c.after for c in changes}
        return report

    async def _read(self, conn: asyncpg.Connection, now: datetime) -> int:
        assert self.city is not None
        assert self.read_until is not None
        sweep = self.swept_at is None or now - self.swept_at >= self.lateness / 2
        after = now - self.lateness if sweep else min(self.read_until, now) - COMMIT_SLACK
        readings = await readings_between(conn, after, now)
        # Readings of a sensor registered since the catalogue was loaded: learn it, merge again.
        # Readings that stay unknown (a sensor of a type this engine has no rules for) cost
        # one version query a tick, not a reload.
        if self.city.merge(readings) and await self.refresh_catalog(conn):
            self._merge_again(readings)
        self.read_until = max(self.read_until, now)
        if sweep:
            self.swept_at = now
        return len(readings)

    def _merge_again(self, readings: RecentReadings) -> None:
        assert self.city is not None
        unknown = self.city.merge(readings)
        if unknown:
            log.warning("%d readings of sensors missing from the catalogue were skipped", unknown)

    async def _take_ops_changes(self, conn: asyncpg.Connection, pending: _Pending) -> None:
        for alert, seq in await store.load_ops_changes(conn, self.ops_seq):
            pending.ops[alert.fingerprint] = alert
            self.ops_seq = max(self.ops_seq, seq)

    def _with_ops(self, pending: _Pending, now: datetime) -> dict[str, dict[str, Alert]]:
        """Active alerts with acknowledgements and closures made since the last tick."""
        if not pending.ops:
            return self.active
        active = {rule: dict(alerts) for rule, alerts in self.active.items()}
        for fresh in pending.ops.values():
            mine = active.get(fresh.rule_id, {}).get(fresh.subject.id)
            if mine is not None:
                merged = replace(mine, **{f: getattr(fresh, f) for f in _OPS_FIELDS})
                active[fresh.rule_id][fresh.subject.id] = merged
                if mine.fingerprint in self.pool:
                    self._add_to_pool(merged, pending.pool, now)
        return active

    def _retire_orphans(self, active: dict[str, dict[str, Alert]], now: datetime) -> list[Change]:
        """Alerts of rules that are gone (removed or disabled): resolved, with an audit line."""
        bound = {b.rule.id for b in self.bindings}
        changes = []
        for rule_id in [r for r in active if r not in bound]:
            for alert in active[rule_id].values():
                retired = replace(
                    alert,
                    phase=Phase.RESOLVED if alert.phase is Phase.FIRING else Phase.INACTIVE,
                    resolved_at=now if alert.phase is Phase.FIRING else alert.resolved_at,
                    clearing_since=None,
                )
                note = Transition(
                    fingerprint=alert.fingerprint,
                    at=now,
                    kind="retired",
                    from_phase=alert.phase,
                    to_phase=retired.phase,
                    grade=retired.grade,
                    previous_grade=alert.grade,
                    value=alert.value,
                    note="the rule was removed or disabled",
                )
                changes.append(Change(alert, retired, (note,)))
        return changes

    def _add_to_pool(self, alert: Alert, pool: dict[str, NotifyAlert], now: datetime) -> None:
        rule = self.rules.get(alert.rule_id)
        if rule is None:
            return
        # The threshold quoted is the one in force now (the night's, by night).
        condition = rule.condition
        if rule.schedules:
            condition = rule.condition_at(now.astimezone(self.zone_of(alert.subject)))
        pool[alert.fingerprint] = describe(
            alert,
            rule,
            self.registry,
            self.geography,
            condition=condition,
            external_url=self.external_url,
        )

    def _stage(
        self, change: Change, pool: dict[str, NotifyAlert], pending: _Pending, now: datetime
    ) -> None:
        after = change.after
        fp = after.fingerprint
        escalation = states_to_json(self.escalations.get(fp, {}))
        pending.rows[fp] = (change.before, after, escalation)
        pending.transitions.extend((after.rule_id, t) for t in change.transitions)
        if after.phase is Phase.FIRING or (after.phase is Phase.RESOLVED and fp in pool):
            self._add_to_pool(after, pool, now)  # resolved: its message is still to be sent
        else:
            pool.pop(fp, None)

    def _silenced(self, now: datetime) -> Callable[[NotifyAlert], bool]:
        silences = [s for s in self.silences if s.active_at(now)]

        def check(alert: NotifyAlert) -> bool:
            return (
                bool(silences) and is_silenced(alert_labels(alert.alert), silences, now) is not None
            )

        return check

    def _plan(self, pool: dict[str, NotifyAlert], now: datetime, pending: _Pending) -> None:
        if self.routing is None:
            for fp in [fp for fp, a in pool.items() if not a.firing]:
                pool.pop(fp)
            return
        silenced = self._silenced(now)
        plan = plan_notifications(
            self.routing,
            pool.values(),
            self.records,
            now,
            silenced=silenced,
            external_url=self.external_url,
        )
        escalations = plan_escalations(
            self.routing,
            pool.values(),
            self.escalations,
            now,
            silenced=silenced,
            external_url=self.external_url,
        )
        pending.notifications = plan.notifications + escalations.notifications
        pending.records, pending.forgotten = plan.records, plan.forgotten
        pending.escalations = escalations.states
        for fp in plan.settled:
            pool.pop(fp, None)
        for fp, states in escalations.states.items():
            if fp in pending.rows:
                before, after, _ = pending.rows[fp]
            else:
                before = after = pool[fp].alert  # only its escalation state moved
            pending.rows[fp] = (before, after, states_to_json(states))

    def _commit(
        self,
        active: dict[str, dict[str, Alert]],
        changes: list[Change],
        pool: dict[str, NotifyAlert],
        pending: _Pending,
    ) -> None:
        if changes and active is self.active:
            active = {rule: dict(alerts) for rule, alerts in active.items()}
        for change in changes:
            after = change.after
            alerts = active.setdefault(after.rule_id, {})
            if after.phase in (Phase.PENDING, Phase.FIRING):
                alerts[after.subject.id] = after
            else:
                alerts.pop(after.subject.id, None)
                self.escalations.pop(after.fingerprint, None)
        self.active = {rule: alerts for rule, alerts in active.items() if alerts}
        self.pool = pool
        for key in pending.forgotten:
            self.records.pop(key, None)
        self.records.update(pending.records)
        self.escalations.update(pending.escalations)

    def active_count(self) -> int:
        return sum(len(a) for a in self.active.values())
