"""Resolve: received messages -> one batch of rows, dead letters and status changes.

The one path from bytes to what gets committed, for MQTT and HTTP ingest alike. Every message
ends in exactly one place: stored readings, a dead letter, or a status change. A message with some
bad metrics stores the good ones and is also dead-lettered with its raw bytes, so nothing is
dropped silently.

Resolving is a pure pass over the messages with the vocabulary held in memory (validators from
the sensor types, the catalog of sensors and metric ids). It needs the database only to keep that
vocabulary current, before a pass or between the two passes a batch can take:

- every `types_check_every` the stored types' version is read; when it moved (a type posted to
  the gateway) validators and catalog are rebuilt, so no restart is needed;
- a message from a sensor the catalog does not know is held back from the first pass; then the
  sensors it names are registered (policy `auto_register`, a known type) or the catalog is
  reloaded (a sensor added to the inventory since; at most every `catalog_reload_every`), and a
  second, final pass resolves the held messages, dead-lettering what is still unknown.

Database errors come out as StorageError: the MQTT service retries until the database is back
(nothing is acknowledged meanwhile); an HTTP request answers 503 (the device sends again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

import asyncpg

from ingest.config import Limits
from schemas.domains import Domains
from schemas.inventory import UnknownSensorPolicy
from schemas.status import decode_status
from schemas.telemetry import Rejection, RejectReason, Report, decode_payload
from schemas.topics import Topic, parse_topic, resolve_validator, unknown_district
from schemas.type_validator import TypeValidator, validators_for
from storage.catalog import Catalog, SensorOrigin, load_catalog, register_sensor
from storage.dead_letters import DeadLetter
from storage.pool import connection
from storage.status import StatusChange
from storage.type_specs import TypesVersion, load_stored_registry, types_version
from storage.writer import Row

log = logging.getLogger(__name__)

CATALOG_RELOAD_EVERY = timedelta(seconds=10)
TYPES_CHECK_EVERY = timedelta(seconds=5)
_MAX_DETAILS = 20


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: bytes
    payload: bytes
    packet_id: int  # 0 for QoS 0 and HTTP
    generation: int  # which broker connection delivered it (acks go only to that one)
    received_at: datetime
    redelivered: bool = False  # the broker's DUP flag: it may have been delivered before


@dataclass
class Batch:
    """What a set of messages comes to; committed in one transaction by `storage.writer`."""

    messages: Sequence[Inbound]
    rows: list[Row] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    newest: datetime | None = None  # the newest reading time, for the lag metric

    @property
    def redelivered(self) -> bool:
        return any(message.redelivered for message in self.messages)


@dataclass
class _Pass:
    """One pass over messages: what it resolved, and what must wait for the catalog."""

    batch: Batch
    to_register: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, place)
    held: list[Inbound] = field(default_factory=list)
    unknown: bool = False  # some sensor is not in the catalog: worth a reload


class Resolver:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        policy: UnknownSensorPolicy,
        limits: Limits,
        source: str = "mqtt",
        catalog_reload_every: timedelta = CATALOG_RELOAD_EVERY,
        types_check_every: timedelta = TYPES_CHECK_EVERY,
    ) -> None:
        self.pool = pool
        self.validators: Mapping[str, TypeValidator] = {}
        self.catalog = Catalog()
        # The stored domains (the gateway checks its domain parameters against them).
        self.domains: Domains = MappingProxyType({})
        self._auto_register = policy is UnknownSensorPolicy.AUTO_REGISTER
        self._limits = limits
        self._source = source
        self._catalog_reload_every = catalog_reload_every
        self._types_check_every = types_check_every
        self._catalog_loaded_at: datetime | None = None
        self._types_checked_at: datetime | None = None
        self._types_version: TypesVersion | None = None
        self._lock = asyncio.Lock()  # one reload at a time (HTTP requests run concurrently)

    async def resolve(self, messages: Sequence[Inbound], now: datetime) -> Batch:
        await self.check_types_when_due(now)
        first = self.resolve_known(messages, now)
        if first.held:
            if first.to_register:
                await self._register(first.to_register)
            if first.unknown:
                await self._reload_catalog_when_due(now)
            second = self.resolve_known(first.held, now, final=True).batch
            first.batch.rows += second.rows
            first.batch.dead_letters += second.dead_letters
            first.batch.status_changes += second.status_changes
            first.batch.newest = max(
                (t for t in (first.batch.newest, second.newest) if t is not None), default=None
            )
        return first.batch

    def resolve_known(
        self, messages: Sequence[Inbound], now: datetime, *, final: bool = False
    ) -> _Pass:
        """The pure pass, with the vocabulary as it is. Messages of sensors the catalog lacks
        are held (unless `final`: then they are dead-lettered as unknown)."""
        out = _Pass(Batch(messages))
        for message in messages:
            try:
                topic = parse_topic(message.topic.decode("utf-8"))
            except UnicodeDecodeError:
                self._dead(out.batch, message, RejectReason.BAD_TOPIC, "topic", "is not UTF-8")
                continue
            except Rejection as rejection:
                self._dead_letter(out.batch, message, [rejection])
                continue
            if topic.district not in self.catalog.subdistrict_ids:
                known = self.catalog.subdistrict_ids
                unknown = unknown_district(message.topic.decode(), topic.district, known)
                self._dead_letter(out.batch, message, [unknown])
                continue
            if topic.kind == "status":
                self._status(out.batch, message, topic)
            else:
                self._telemetry(out, message, topic, now, final)
        return out

    def _telemetry(
        self, out: _Pass, message: Inbound, topic: Topic, now: datetime, final: bool
    ) -> None:
        limits, batch = self._limits, out.batch
        try:
            reports = decode_payload(
                message.payload, max_bytes=limits.max_payload_bytes, max_reports=limits.max_reports
            )
        except Rejection as rejection:
            self._dead_letter(batch, message, [rejection])
            return
        sensor = self.catalog.sensors.get(topic.sensor_id)
        if sensor is None and not self._auto_register and not final:
            out.held.append(message)
            out.unknown = True
            return
        problems: list[Rejection] = []
        rows, newest = batch.rows, batch.newest
        for index, item in reports:
            if isinstance(item, Rejection):
                problems.append(item)
                continue
            prefix = f"[{index}]." if len(reports) > 1 else ""
            validator = self._validator(topic, item, sensor.type_name if sensor else None, prefix)
            if isinstance(validator, Rejection):
                problems.append(validator)
                continue
            if sensor is None:  # auto_register with a known type: register, then come back
                out.to_register[topic.sensor_id] = (validator.name, topic.district)
                out.held.append(message)
                return
            good, bad = validator.check(
                item,
                now=now,
                max_future=limits.max_future,
                max_age=limits.max_age,
                field_prefix=prefix,
            )
            problems += bad
            if good:
                metric_ids = self.catalog.metric_ids
                ts, sensor_id, type_name = item.ts, sensor.id, sensor.type_name
                rows.extend((ts, sensor_id, metric_ids[(type_name, m)], v) for m, v in good)
                if newest is None or ts > newest:
                    newest = ts
        batch.newest = newest
        if problems:
            self._dead_letter(batch, message, problems)

    def _validator(
        self, topic: Topic, report: Report, registered: str | None, prefix: str
    ) -> TypeValidator | Rejection:
        return resolve_validator(
            topic,
            report,
            self.validators,
            registered_type=registered,
            allow_unregistered=self._auto_register,
            field_prefix=prefix,
        )

    def _status(self, batch: Batch, message: Inbound, topic: Topic) -> None:
        sensor = self.catalog.sensors.get(topic.sensor_id)
        if sensor is None:
            # Status of a sensor we do not know yet: nothing to attach it to; keep the bytes.
            what = f"status of sensor {topic.sensor_id!r}, which is not registered"
            self._dead(batch, message, RejectReason.UNKNOWN_SENSOR, "topic", what)
            return
        status = decode_status(message.payload, message.received_at)
        if isinstance(status, Rejection):
            self._dead_letter(batch, message, [status])
            return
        change = StatusChange(sensor.id, status.ts, status.online, status.sender_timed)
        batch.status_changes.append(change)

    def _dead(
        self, batch: Batch, message: Inbound, reason: RejectReason, where: str, what: str
    ) -> None:
        self._dead_letter(batch, message, [Rejection(reason, where, f"{where}: {what}")])

    def _dead_letter(self, batch: Batch, message: Inbound, problems: list[Rejection]) -> None:
        first = problems[0]
        detail = "; ".join(p.detail for p in problems[:_MAX_DETAILS])
        if len(problems) > _MAX_DETAILS:
            detail += f"; and {len(problems) - _MAX_DETAILS} more"
        letter = DeadLetter(
            source=self._source,
            topic=message.topic.decode("utf-8", "replace"),
            payload=message.payload,
            reason=first.reason.value,
            field=first.field,
            detail=detail,
            received_at=message.received_at,
            redelivered=message.redelivered,
        )
        batch.dead_letters.append(letter)

    async def check_types_when_due(self, now: datetime) -> None:
        checked = self._types_checked_at
        if checked is None or now - checked >= self._types_check_every:
            await self.check_types(now)

    async def check_types(self, now: datetime, *, force: bool = False) -> bool:
        """Rebuild validators and catalog if the stored types changed; True if they did."""
        async with self._lock, connection(self.pool, "checking sensor types") as conn:
            version = await types_version(conn)
            self._types_checked_at = now
            if not force and version == self._types_version:
                return False
            registry = await load_stored_registry(conn)
            self.catalog = await load_catalog(conn)
            self.validators = validators_for(registry)
            self.domains = registry.domains
            self._catalog_loaded_at = now
            first, self._types_version = self._types_version is None, version
        if not first:
            log.info("sensor types changed: now %d types", len(registry))
        return True

    async def _reload_catalog_when_due(self, now: datetime) -> None:
        loaded = self._catalog_loaded_at
        if loaded is None or now - loaded >= self._catalog_reload_every:
            await self.reload_catalog(now)

    async def reload_catalog(self, now: datetime) -> None:
        """Read the sensors again (one was added or changed through the API)."""
        async with self._lock, connection(self.pool, "loading the catalog") as conn:
            self.catalog = await load_catalog(conn)
        self._catalog_loaded_at = now

    async def _register(self, sensors: dict[str, tuple[str, str]]) -> None:
        async with connection(self.pool, "registering sensors") as conn:
            for external_id, (type_name, district) in sensors.items():
                ref = await register_sensor(
                    conn, self.catalog, external_id, type_name, district, SensorOrigin.AUTO_REGISTER
                )
                log.info(
                    "auto-registered sensor %s (%s in %s)", ref.external_id, type_name, district
                )
