"""Request and response bodies shared by the endpoints: errors, pages, registry, sensors,
ingest, dead letters, operations (keys: models_keys; the city: models_city).

Every model carries an example, so the OpenAPI document shows what a real answer looks like.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from gateway.params import Moment
from schemas.sensor_type import SensorType
from storage.online import HISTORY, OFFLINE_AFTER_INTERVALS

T0 = "2026-11-25T08:00:00Z"
Item = TypeVar("Item")


def example(value: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class Problem(BaseModel):
    model_config = example(
        {
            "field": "metrics.pressure",
            "reason": "out_of_range",
            "detail": "metrics.pressure: 2.5 MPa is outside the physical range [0, 1.6] MPa",
        }
    )

    field: str | None = Field(description="The field concerned, dotted; null: the whole input")
    reason: str = Field(description="A stable code")
    detail: str = Field(description="A sentence that names the field")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer has this shape."""

    model_config = example(
        {
            "error": "invalid",
            "detail": "bucket: 90 buckets of 5m is fine, 20160 is over the limit of 10000",
            "field": "bucket",
            "problems": [],
        }
    )

    error: str = Field(description="A stable code: invalid, not_found, forbidden, ...")
    detail: str
    field: str | None = None
    problems: list[Problem] = Field(default_factory=list)


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page"
    )


# --- registry --------------------------------------------------------------------------------


class MetricSummary(BaseModel):
    name: str
    unit: str
    kind: str
    name_zh: str
    name_en: str
    states: list[str] | None = Field(
        default=None,
        description="An enumerated state metric's labels; a stored value is the label's index",
    )
    aliases: list[str] = Field(
        default_factory=list, description="Other names devices send the metric under"
    )


class SensorTypeSummary(BaseModel):
    model_config = example(
        {
            "name": "water_main_pressure",
            "domain": "water",
            "name_zh": "供水管网压力计",
            "name_en": "Water-main pressure gauge",
            "reporting_interval_s": 60.0,
            "metrics": [
                {
                    "name": "pressure",
                    "unit": "MPa",
                    "kind": "gauge",
                    "name_zh": "管网压力",
                    "name_en": "Pressure",
                }
            ],
            "origin": "file",
            "updated_at": T0,
        }
    )

    name: str
    domain: str
    name_zh: str
    name_en: str
    reporting_interval_s: float
    metrics: list[MetricSummary]
    origin: str = Field(description="file: owned by a YAML file; api: posted to the gateway")
    updated_at: datetime


class SensorTypeDetail(SensorTypeSummary):
    spec: SensorType = Field(description="The type as its YAML file says it")


class SensorTypeSaved(BaseModel):
    model_config = example({"name": "water_main_pressure", "outcome": "created"})

    name: str
    outcome: str = Field(description="created or updated")


# --- sensors ---------------------------------------------------------------------------------


class Sensor(BaseModel):
    model_config = example(
        {
            "id": "yp-wp-0001",
            "type": "water_main_pressure",
            "domain": "water",
            "subdistrict": "yinhang",
            "lat": 31.3244,
            "lon": 121.5358,
            "name": "殷行路DN600干管 压力",
            "origin": "inventory",
            "online": True,
            "status_changed_at": T0,
        }
    )

    id: str
    type: str
    domain: str
    subdistrict: str
    lat: float | None
    lon: float | None
    name: str | None
    origin: str = Field(description="inventory, auto_register or api")
    online: bool | None = Field(
        description=(
            "The status topic's last word (birth / last will); for a sensor without one, true "
            f"while it reports within {OFFLINE_AFTER_INTERVALS} of its type's reporting "
            f"intervals, false after that; null: no status and no reading in the last "
            f"{HISTORY.days} days"
        )
    )
    status_changed_at: datetime | None = Field(
        description="When the status topic last changed `online`; null for telemetry-only sensors"
    )


class LatestValue(BaseModel):
    metric: str
    unit: str
    ts: datetime
    value: float
    state: str | None = Field(
        default=None, description="For an enumerated state metric: the label of `value`"
    )


class StatusChange(BaseModel):
    ts: datetime
    online: bool


class SensorDetail(Sensor):
    latest: list[LatestValue] = Field(description="Newest value of each metric (last 7 days)")
    status_history: list[StatusChange] = Field(description="Online/offline changes, newest first")


class SensorRegistration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "water_main_pressure",
                    "subdistrict": "yinhang",
                    "lat": 31.3244,
                    "lon": 121.5358,
                    "name": "殷行路DN600干管 压力",
                }
            ]
        },
    )

    type: str = Field(min_length=1, max_length=64)
    subdistrict: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Its subdistrict's code; omitted: placed by its coordinates",
    )
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    name: str | None = Field(default=None, max_length=200)


class SensorSaved(BaseModel):
    id: str
    outcome: str = Field(description="created or updated")
    subdistrict: str = Field(description="Where it is placed: as named, or by its coordinates")
    warning: str | None = Field(
        default=None,
        description="Its coordinates lie in another subdistrict than it names (kept as named)",
    )


# --- HTTP ingest -----------------------------------------------------------------------------


class IngestResult(BaseModel):
    model_config = example(
        {"stored": 2, "duplicates": 0, "status_changes": 0, "rejected": []},
    )

    stored: int = Field(description="Readings committed by this request")
    duplicates: int = Field(description="Readings already stored (a retry): not stored twice")
    status_changes: int
    rejected: list[Problem] = Field(
        description="Dead-lettered parts of the payload (kept with the raw bytes)"
    )


# --- dead letters ----------------------------------------------------------------------------


class DeadLetterOut(BaseModel):
    model_config = example(
        {
            "id": 17,
            "received_at": T0,
            "source": "mqtt",
            "topic": "city/v1/water/yinhang/yp-wp-0001/telemetry",
            "reason": "unknown_type",
            "field": "type",
            "detail": "type: unknown sensor type 'water_hammer' (not in the registry)",
            "replayed_at": None,
            "size": 62,
            "payload_text": '{"ts": 1764028800000, "metrics": {"pressure": 0.31}}',
            "payload_base64": None,
        }
    )

    id: int
    received_at: datetime
    source: str
    topic: str | None
    reason: str
    field: str | None
    detail: str
    replayed_at: datetime | None
    size: int = Field(description="Payload size in bytes")
    payload_text: str | None = Field(description="The payload, when it is UTF-8")
    payload_base64: str | None = Field(description="The payload in base64, when it is not")


class ReplayRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "unknown_type", "limit": 100}]},
    )

    ids: list[int] | None = Field(default=None, max_length=1_000, description="These letters")
    reason: str | None = Field(default=None, max_length=64, description="Or those with a reason")
    source: str | None = Field(default=None, max_length=16)
    since: Moment | None = None
    until: Moment | None = None
    limit: int = Field(default=100, ge=1, le=1_000)


class ReplayFailure(BaseModel):
    id: int
    reason: str
    field: str | None
    detail: str


class ReplayResult(BaseModel):
    model_config = example(
        {"selected": 3, "replayed": 2, "stored": 2, "duplicates": 0, "failed": []},
    )

    selected: int = Field(description="Dead letters not replayed before that matched")
    replayed: int = Field(description="Now stored in full and marked replayed")
    stored: int
    duplicates: int
    failed: list[ReplayFailure] = Field(description="Still refused; left as they were")


# --- operations ------------------------------------------------------------------------------


class Health(BaseModel):
    model_config = example({"status": "ok"})

    status: str = Field(description="ok, or wedged")
    detail: str | None = Field(default=None, description="What is wedged")
    history: str | None = Field(
        default=None,
        description="`make demo` only: filling while its history is being backfilled, then done",
    )


class Readiness(BaseModel):
    model_config = example({"status": "ready", "database": "ok", "broker": "ok"})

    status: str = Field(description="ready or not_ready")
    database: str
    broker: str
