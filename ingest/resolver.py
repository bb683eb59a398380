"""From raw MQTT messages to rows, dead letters and status changes (no I/O: the pipeline does it).

Every message ends in exactly one place: stored readings, a dead letter, a status change, or a
list the pipeline must act on first (a sensor to auto-register; an unknown sensor to look up again
after reloading the catalog). A message with some bad metrics stores the good ones and is also
dead-lettered with its raw bytes, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.status_payload import decode_status
from schemas.inventory import UnknownSensorPolicy
from schemas.telemetry import Rejection, RejectReason, Report, TypeValidator, decode_payload
from schemas.topics import Topic, parse_topic, resolve_validator
from storage.catalog import Catalog
from storage.dead_letters import DeadLetter
from storage.status import StatusChange
from storage.writer import Row


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: bytes
    payload: bytes
    packet_id: int  # 0 for QoS 0
    generation: int  # which broker connection delivered it (acks go only to that one)
    received_at: datetime


@dataclass(frozen=True)
class Limits:
    max_payload_bytes: int = 65_536
    max_reports: int = 1_000
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=90)


@dataclass
class Resolved:
    rows: list[Row] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    # (sensor id, type, subdistrict) to register before `waiting` can be resolved again
    to_register: dict[str, tuple[str, str]] = field(default_factory=dict)
    waiting: list[Inbound] = field(default_factory=list)
    # not in the catalog under the dead_letter policy: worth a catalog reload before giving up
    unknown: list[Inbound] = field(default_factory=list)
    newest: datetime | None = None

    def merge(self, other: Resolved) -> None:
        self.rows += other.rows
        self.dead_letters += other.dead_letters
        self.status_changes += other.status_changes
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest


class Resolver:
    def __init__(
        self,
        validators: Mapping[str, TypeValidator],
        catalog: Catalog,
        policy: UnknownSensorPolicy,
        limits: Limits,
        source: str = "mqtt",
    ) -> None:
        self.validators = validators
        self.catalog = catalog
        self._auto_register = policy is UnknownSensorPolicy.AUTO_REGISTER
        self._limits = limits
        self._source = source

    def resolve(self, batch: Sequence[Inbound], now: datetime, *, final: bool = False) -> Resolved:
        """`final`: unknown sensors are dead-lettered instead of returned in `unknown`."""
        out = Resolved()
        for message in batch:
            try:
                topic = parse_topic(message.topic.decode("utf-8"))
            except UnicodeDecodeError:
                self._dead(out, message, RejectReason.BAD_TOPIC, "topic", "topic is not UTF-8")
                continue
            except Rejection as rejection:
                self._dead_rejection(out, message, [rejection])
                continue
            if topic.kind == "status":
                self._status(out, message, topic)
            else:
                self._telemetry(out, message, topic, now, final)
        return out

    def _telemetry(
        self, out: Resolved, message: Inbound, topic: Topic, now: datetime, final: bool
    ) -> None:
        limits = self._limits
        try:
            reports = decode_payload(
                message.payload,
                max_bytes=limits.max_payload_bytes,
                max_reports=limits.max_reports,
            )
        except Rejection as rejection:
            self._dead_rejection(out, message, [rejection])
            return
        sensor = self.catalog.sensors.get(topic.sensor_id)
        if sensor is None and not self._auto_register and not final:
            out.unknown.append(message)
            return
        problems: list[Rejection] = []
        rows = out.rows
        newest = out.newest
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
                out.waiting.append(message)
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
        out.newest = newest
        if problems:
            self._dead_rejection(out, message, problems)

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

    def _status(self, out: Resolved, message: Inbound, topic: Topic) -> None:
        sensor = self.catalog.sensors.get(topic.sensor_id)
        if sensor is None:
            # Status of a sensor we do not know yet: nothing to attach it to; keep the bytes.
            what = f"status of sensor {topic.sensor_id!r}, which is not registered"
            self._dead(out, message, RejectReason.UNKNOWN_SENSOR, "topic", what)
            return
        decoded = decode_status(message.payload, message.received_at)
        if isinstance(decoded, Rejection):
            self._dead_rejection(out, message, [decoded])
            return
        online, ts = decoded
        out.status_changes.append(StatusChange(sensor.id, ts, online))

    def _dead(
        self, out: Resolved, message: Inbound, reason: RejectReason, where: str, what: str
    ) -> None:
        self._dead_rejection(out, message, [Rejection(reason, where, f"{where}: {what}")])

    def _dead_rejection(self, out: Resolved, message: Inbound, problems: list[Rejection]) -> None:
        first = problems[0]
        detail = "; ".join(p.detail for p in problems[:20])
        if len(problems) > 20:
            detail += f"; and {len(problems) - 20} more"
        out.dead_letters.append(
            DeadLetter(
                source=self._source,
                topic=message.topic.decode("utf-8", "replace"),
                payload=message.payload,
                reason=first.reason.value,
                field=first.field,
                detail=detail,
                received_at=message.received_at,
            )
        )
