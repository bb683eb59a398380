"""Telemetry payloads: decode bytes into raw reports, then check each against its sensor type.

Payload (JSON, UTF-8): one report ``{"ts": ..., "seq": 1, "type": "...", "metrics": {...}}`` or an
array of them (a gateway batching). ``ts`` is ISO 8601 with a UTC offset, or integer epoch
milliseconds. A metric is a number, a boolean or a state label (state metrics only) or
``{"value": n, "unit": u}``; its name is the metric's or one of its aliases. A FIWARE keyValues
entity (`schemas/fiware.py`) is a report too.

Two steps, because the second needs the sensor type, which the caller resolves from the topic,
the inventory and the report (`schemas.topics.resolve_validator`): `decode_payload` checks the
structure and keeps each metric's raw JSON value; `TypeValidator.check`
(`schemas/type_validator.py`) converts and checks the values. Keeping raw values in `Report`
lets the validator tell "a string" from "a boolean" from "a unit object" without decode guessing
the type first. Every problem is a `Rejection`: a stable
reason code for counters and dead letters, the dotted field (``[3].metrics.flow``; None for the
whole payload) and a sentence naming it.

This sits on the ingest's hot path (20k+ messages/s on one core): no pydantic here, orjson for
parsing, exact-type tests, per-type metric tables built once, and error text built only on errors.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import orjson

from schemas import fiware

MIN_EPOCH_MS = 100_000_000_000  # 1973-03-03: smaller values are almost surely epoch seconds
MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time datetime can hold
MAX_SEQ = 2**63 - 1  # stored as bigint
_CLIP = 80  # payload text quoted in details is attacker-controlled: keep it short
_MISSING = object()
_JSON_TYPES = {type(None): "null", list: "an array", dict: "an object"}
TS_FORMS = "ISO 8601 with a UTC offset (2025-11-25T08:00:00+08:00) or integer epoch milliseconds"


class RejectReason(StrEnum):
    """Why a message or part of it was refused; the values are stable (counters, dead letters)."""

    BAD_TOPIC = "bad_topic"
    OVERSIZED = "oversized"
    BAD_UTF8 = "bad_utf8"
    BAD_JSON = "bad_json"
    BAD_SHAPE = "bad_shape"
    MISSING_FIELD = "missing_field"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_SENSOR = "unknown_sensor"
    TYPE_MISMATCH = "type_mismatch"
    DOMAIN_MISMATCH = "domain_mismatch"
    UNKNOWN_METRIC = "unknown_metric"
    WRONG_VALUE_TYPE = "wrong_value_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    WRONG_UNIT = "wrong_unit"
    TOO_MANY_READINGS = "too_many_readings"
    BAD_SEQ = "bad_seq"


class Rejection(Exception):
    """A refused message or part of one. Raised for the whole payload, returned per report/metric.

    `field` is the dotted path (``metrics.pressure``, ``[3].ts``, ``topic``) or None for the whole
    payload; `detail` is a sentence that starts with the field (or ``payload:``).
    """

    def __init__(self, reason: RejectReason, field: str | None, detail: str) -> None:
        super().__init__(reason, field, detail)  # all three in args, so it pickles
        self.reason = reason
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class Report:
    """One decoded report, not yet checked against a type.

    `values` holds (metric name, raw JSON value) in payload order: usually an int or float, but
    possibly a bool, a ``{"value", "unit"}`` dict or junk; `TypeValidator.check` decides.
    """

    ts: datetime  # always in UTC
    seq: int | None
    type_name: str | None
    values: tuple[tuple[str, object], ...]
    data_model: str | None = None  # a FIWARE keyValues entity: its `type` (AirQualityObserved)


def decode_payload(
    payload: bytes, *, max_bytes: int = 65536, max_reports: int = 1000
) -> list[tuple[int, Report | Rejection]]:
    """(index, Report or Rejection) per report, so one bad report does not sink a batch; the
    index is 0 for a single object, and fields in an array's rejections start with ``[index].``.
    Raises Rejection when the payload as a whole is unusable (oversized, bad_utf8, bad_json,
    bad_shape, too_many_readings)."""
    if len(payload) > max_bytes:
        size = f"{len(payload):,} bytes is over the limit of {max_bytes:,} bytes"
        raise reject(RejectReason.OVERSIZED, None, size)
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        document = _salvage(payload, error)
    if type(document) is dict:
        return [(0, _report(document, None))]
    if type(document) is not list:
        shape = f"expected a report object or an array of them, got {json_type(document)}"
        raise reject(RejectReason.BAD_SHAPE, None, shape)
    if not document:
        raise reject(RejectReason.BAD_SHAPE, None, "empty array; expected reports")
    if len(document) > max_reports:
        count = f"{len(document):,} reports in one message; at most {max_reports:,} allowed"
        raise reject(RejectReason.TOO_MANY_READINGS, None, count)
    return [(i, _report(item, i)) for i, item in enumerate(document)]


def _salvage(payload: bytes, error: orjson.JSONDecodeError) -> object:
    """orjson refused the bytes: say why, or rescue a document whose only flaw is a non-finite
    number (NaN/Infinity literals, 1e400), so that metric gets not_finite and the rest survives.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as bad:
        where = f"not UTF-8 (invalid byte at offset {bad.start})"
        raise reject(RejectReason.BAD_UTF8, None, where) from None
    try:
        document = json.loads(text, parse_constant=float)
        # The stdlib also lets lone surrogates ("\ud800") through, which the database would
        # refuse later; orjson refuses to encode them, so this confirms NaN was the only flaw.
        orjson.dumps(document)
    except (ValueError, RecursionError, TypeError, orjson.JSONEncodeError):
        raise reject(RejectReason.BAD_JSON, None, f"not valid JSON ({error})") from None
    return document


def _report(item: object, index: int | None) -> Report | Rejection:
    if type(item) is not dict:  # only array elements get here: decode_payload checks the top
        return reject(
            RejectReason.BAD_SHAPE,
            f"[{index}]",
            f"expected a report object, got {json_type(item)}",
        )
    raw_ts = item.get("ts", _MISSING)
    if raw_ts is _MISSING and fiware.is_fiware(item):  # off the plain path: no "ts"
        return _fiware_report(item, index)
    if type(raw_ts) is int and MIN_EPOCH_MS <= raw_ts <= MAX_EPOCH_MS:  # parse_timestamp, inlined
        # Exact to the microsecond for any time before 2106, far beyond the accepted window.
        ts = datetime.fromtimestamp(raw_ts / 1000, UTC)
    else:
        parsed = _slow_ts(raw_ts, f"{_prefix(index)}ts")
        if isinstance(parsed, Rejection):
            return parsed
        ts = parsed
    metrics = item.get("metrics", _MISSING)
    if type(metrics) is not dict or not metrics:
        return _bad_metrics(metrics, f"{_prefix(index)}metrics")
    seq = item.get("seq")
    if (seq is not None or "seq" in item) and (type(seq) is not int or not 0 <= seq <= MAX_SEQ):
        what = f"{show(seq)} is not a sequence number (an integer 0 to 2^63-1)"
        return reject(RejectReason.BAD_SEQ, f"{_prefix(index)}seq", what)
    type_name = item.get("type")
    if type_name is not None and type(type_name) is not str:
        what = f"expected a sensor type name (a string), got {json_type(type_name)}"
        return reject(RejectReason.BAD_SHAPE, f"{_prefix(index)}type", what)
    return Report(ts, seq, type_name, tuple(metrics.items()))


def _fiware_report(item: dict[str, object], index: int | None) -> Report | Rejection:
    """A FIWARE keyValues entity (see schemas/fiware.py) as a report of its measurements."""
    prefix = _prefix(index)
    model = item.get("type")
    if type(model) is not str or not model:
        what = "a FIWARE keyValues entity names its data model in 'type' (AirQualityObserved)"
        return reject(RejectReason.MISSING_FIELD, f"{prefix}type", f"missing; {what}")
    attribute, raw_time = fiware.observed_at(item)
    ts = parse_timestamp(raw_time, f"{prefix}{attribute}")
    if isinstance(ts, Rejection):
        return ts
    values = fiware.measurements(item)
    if not values:
        what = f"the {clip_field(model)} entity has no measurement attributes"
        return reject(RejectReason.MISSING_FIELD, f"{prefix}metrics", what)
    return Report(ts, None, None, values, model)


def parse_timestamp(raw: object, field: str = "ts") -> datetime | Rejection:
    """ISO 8601 with a UTC offset, or integer epoch milliseconds, as a UTC datetime; the same
    rules for every payload that carries a time (status messages too)."""
    if type(raw) is int and MIN_EPOCH_MS <= raw <= MAX_EPOCH_MS:
        return datetime.fromtimestamp(raw / 1000, UTC)
    return _slow_ts(raw, field)


def _slow_ts(raw: object, field: str) -> datetime | Rejection:
    if raw is _MISSING:
        return reject(RejectReason.MISSING_FIELD, field, f"missing; expected {TS_FORMS}")
    if type(raw) is int:
        if raw < MIN_EPOCH_MS:
            hint = f"{raw} is before 1973 (epoch seconds? expected milliseconds)"
            return reject(RejectReason.TOO_OLD, field, hint)
        hint = f"{raw} is after year 9999 (epoch micro- or nanoseconds? expected milliseconds)"
        return reject(RejectReason.BAD_TIMESTAMP, field, hint)
    if type(raw) is not str:
        return reject(
            RejectReason.BAD_TIMESTAMP, field, f"got {json_type(raw)}; expected {TS_FORMS}"
        )
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return reject(RejectReason.BAD_TIMESTAMP, field, f"{show(raw)} is not {TS_FORMS}")
    if parsed.utcoffset() is None:
        naive = f"{show(raw)} has no time zone; add a UTC offset (Z or +08:00) rather than have "
        naive += "the server guess one and store a wrong time"
        return reject(RejectReason.BAD_TIMESTAMP, field, naive)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return reject(RejectReason.BAD_TIMESTAMP, field, f"{show(raw)} is out of range in UTC")


def _bad_metrics(metrics: object, field: str) -> Rejection:
    expected = "an object of metric name -> value"
    if metrics is _MISSING:
        return reject(RejectReason.MISSING_FIELD, field, f"missing; expected {expected}")
    if type(metrics) is dict:
        return reject(RejectReason.MISSING_FIELD, field, "empty; a report needs a metric")
    got = f"expected {expected}, got {json_type(metrics)}"
    return reject(RejectReason.BAD_SHAPE, field, got)


def reject(reason: RejectReason, field: str | None, what: str) -> Rejection:
    """Details start with the field they are about, so a dead letter reads on its own."""
    return Rejection(reason, field, f"{field or 'payload'}: {what}")


def _prefix(index: int | None) -> str:
    return "" if index is None else f"[{index}]."


def json_type(value: object) -> str:
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int or type(value) is float:
        return f"the number {show(value)}"
    if type(value) is str:
        return f"the string {show(value)}"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def show(value: object) -> str:
    """A payload value quoted for a detail: repr escapes control characters and lone surrogates
    (so the detail stays storable), clipped so a 60 kB string does not become a 60 kB detail."""
    if type(value) is int and abs(value) >= 10**30:  # repr() refuses ints over 4300 digits
        return f"an integer of about {int(math.log10(abs(value))) + 1} digits"
    text = repr(value)
    return text if len(text) <= _CLIP else text[:_CLIP] + "…"


def clip_field(name: str) -> str:
    """A metric name fit for a field path: quoted when it holds control characters (a NUL
    cannot be stored in a text column), clipped when long."""
    if not name.isprintable():
        return show(name)
    return name if len(name) <= _CLIP else name[:_CLIP] + "…"


def number_text(bound: float) -> str:
    return str(int(bound)) if bound.is_integer() else repr(bound)
