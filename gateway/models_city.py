"""Bodies of the readings, vital-signs and alert endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.models import T0, example
from gateway.params import Moment
from storage.online import OFFLINE_AFTER_INTERVALS

# --- readings --------------------------------------------------------------------------------


class BucketPoint(BaseModel):
    start: datetime
    samples: int
    avg: float
    min: float
    max: float
    last: float | None = Field(
        description="The newest value in the bucket; null for a group of sensors"
    )


class BucketSeries(BaseModel):
    model_config = example(
        {
            "metric": "pressure",
            "unit": "MPa",
            "type": "water_main_pressure",
            "sensor": "yp-wp-0001",
            "subdistrict": None,
            "sensors": 1,
            "start": T0,
            "end": "2026-11-25T09:00:00Z",
            "bucket": "5m",
            "source": "readings",
            "points": [
                {
                    "start": T0,
                    "samples": 5,
                    "avg": 0.312,
                    "min": 0.305,
                    "max": 0.318,
                    "last": 0.31,
                }
            ],
        }
    )

    metric: str
    unit: str
    type: str
    sensor: str | None = Field(description="The sensor, or null for a group of sensors")
    subdistrict: str | None
    sensors: int = Field(description="How many sensors the buckets aggregate")
    start: datetime = Field(description="Aligned to the bucket")
    end: datetime
    bucket: str
    source: str = Field(description="readings (raw), readings_1m or readings_1h")
    points: list[BucketPoint]


class RawReading(BaseModel):
    model_config = example({"ts": T0, "metric": "pressure", "value": 0.31})

    ts: datetime
    metric: str
    value: float


# --- vital signs -----------------------------------------------------------------------------


class MetricFigure(BaseModel):
    type: str
    metric: str
    unit: str
    kind: str
    sensors: int
    reporting: int = Field(description="Sensors with a current value")
    avg: float | None
    min: float | None
    max: float | None
    sum: float | None


class Firing(BaseModel):
    blue: int = 0
    yellow: int = 0
    orange: int = 0
    red: int = 0


class Figures(BaseModel):
    sensors: int = 0
    online: int = Field(
        default=0,
        description=(
            "Sensors online: by their status topic, or (without one) reporting within "
            f"{OFFLINE_AFTER_INTERVALS} of their type's reporting intervals"
        ),
    )
    offline: int = Field(
        default=0,
        description="Sensors offline: by their status topic, or (without one) silent longer",
    )
    firing: Firing = Field(default_factory=Firing, description="Firing alerts by grade")
    metrics: list[MetricFigure] = Field(default_factory=list)


class PlaceFigures(Figures):
    """A place's figures: the city (市), a district (区) or a subdistrict (街道)."""

    code: str
    name_zh: str
    name_en: str


class SubdistrictFigures(PlaceFigures):
    district: str = Field(description="The code of its district")


class DomainVitalSigns(BaseModel):
    domain: str
    name_zh: str = Field(description="From domains.yaml, like the order and colour")
    name_en: str
    colour: str = Field(description="#rrggbb, the domain's colour on the walls")
    city: PlaceFigures = Field(description="Every configured district together")
    districts: list[PlaceFigures] = Field(description="Each configured district")
    subdistricts: list[SubdistrictFigures]


class VitalSigns(BaseModel):
    model_config = example(
        {
            "at": T0,
            "domains": [
                {
                    "domain": "water",
                    "name_zh": "供排水管网",
                    "name_en": "Water network",
                    "colour": "#3ba272",
                    "city": {
                        "code": "shanghai",
                        "name_zh": "上海市",
                        "name_en": "Shanghai",
                        "sensors": 11,
                        "online": 10,
                        "offline": 1,
                        "firing": {"blue": 0, "yellow": 1, "orange": 0, "red": 0},
                        "metrics": [
                            {
                                "type": "water_main_pressure",
                                "metric": "pressure",
                                "unit": "MPa",
                                "kind": "gauge",
                                "sensors": 4,
                                "reporting": 4,
                                "avg": 0.31,
                                "min": 0.19,
                                "max": 0.36,
                                "sum": 1.24,
                            }
                        ],
                    },
                    "districts": [],
                    "subdistricts": [],
                }
            ],
        }
    )

    at: datetime
    domains: list[DomainVitalSigns]


# --- alerts ----------------------------------------------------------------------------------


class AlertSubject(BaseModel):
    kind: str = Field(description="sensor, subdistrict or district")
    id: str
    domain: str
    subdistrict: str | None


class StateName(BaseModel):
    label: str = Field(description="The state's label as declared (fault)")
    zh: str = Field(description="Its Chinese name, or the label when it has none")
    en: str = Field(description="Its English name, or the label when it has none")


class AlertOut(BaseModel):
    model_config = example(
        {
            "fingerprint": "5d41402abc4b2a76",
            "rule_id": "default:water_main_pressure:pressure:below",
            "subject": {
                "kind": "sensor",
                "id": "yp-wp-0001",
                "domain": "water",
                "subdistrict": "yinhang",
            },
            "phase": "firing",
            "grade": "orange",
            "value": 0.15,
            "pending_since": T0,
            "firing_since": T0,
            "resolved_at": None,
            "grade_changed_at": T0,
            "ops": "acknowledged",
            "acknowledged_by": "duty-officer-li",
            "acknowledged_at": T0,
            "assignee": None,
            "note": "crew on the way",
            "closed_at": None,
            "closed_while_firing": False,
            "labels": {"type": "water_main_pressure", "metric": "pressure"},
            "updated_at": T0,
        }
    )

    fingerprint: str
    rule_id: str
    subject: AlertSubject
    phase: str = Field(description="inactive, pending, firing or resolved")
    grade: str | None = Field(description="blue, yellow, orange or red")
    value: float | None
    state: StateName | None = Field(
        default=None,
        description="For an enumerated state metric: the state `value` stands for (its index)",
    )
    pending_since: datetime | None
    firing_since: datetime | None
    resolved_at: datetime | None
    grade_changed_at: datetime | None
    ops: str = Field(description="open, acknowledged, assigned or closed")
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    assignee: str | None
    note: str | None
    closed_at: datetime | None
    closed_while_firing: bool = Field(
        description="Closed by ops while its condition still holds (pending or firing): it "
        "stays on the duty list, marked, until the condition clears"
    )
    labels: dict[str, str]
    updated_at: datetime


class TransitionOut(BaseModel):
    model_config = example(
        {
            "id": 42,
            "fingerprint": "5d41402abc4b2a76",
            "rule_id": "default:water_main_pressure:pressure:below",
            "at": T0,
            "kind": "acknowledged",
            "from_phase": "firing",
            "to_phase": "firing",
            "grade": "orange",
            "previous_grade": None,
            "value": 0.15,
            "actor": "duty-officer-li",
            "note": "crew on the way",
            "subject_kind": "sensor",
            "subject_id": "yp-wp-0001",
            "domain": "water",
            "subdistrict": "yinhang",
        }
    )

    id: int
    fingerprint: str
    rule_id: str
    at: datetime
    kind: str
    from_phase: str
    to_phase: str
    grade: str | None
    previous_grade: str | None
    value: float | None
    actor: str | None
    note: str | None
    subject_kind: str | None
    subject_id: str | None
    domain: str | None
    subdistrict: str | None


class AlertDetail(AlertOut):
    transitions: list[TransitionOut] = Field(description="Its audit trail, newest first")


def _action(example_body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example_body]})


class Acknowledge(BaseModel):
    model_config = _action({"note": "crew on the way"})
    note: str | None = Field(default=None, max_length=2_000)


class Assign(BaseModel):
    model_config = _action({"to": "water-crew-3"})
    to: str = Field(min_length=1, max_length=100)


class Note(BaseModel):
    model_config = _action({"note": "valve closed at 08:40"})
    note: str = Field(min_length=1, max_length=2_000)


class Close(BaseModel):
    model_config = _action({"note": "main repaired"})
    note: str | None = Field(
        default=None,
        max_length=2_000,
        description="Why it is closed; required with confirm_firing",
    )
    confirm_firing: bool = Field(
        default=False,
        description="Close it although it still fires (or is pending): without this such a "
        "close is refused with 409 `still_firing`; with it a note is required, and the alert "
        "stays on the duty list (`closed_while_firing`) until the condition clears",
    )


class SilenceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "matchers": ["subdistrict=yinhang", 'grade=~"blue|yellow"'],
                    "ends_at": "2026-11-25T12:00:00+08:00",
                    "comment": "planned works on the Yinhang main",
                }
            ]
        },
    )

    matchers: list[str] = Field(min_length=1, max_length=20, description="label=value, !=, =~, !~")
    starts_at: Moment | None = Field(default=None, description="Default: now")
    ends_at: Moment
    comment: str = Field(default="", max_length=2_000)


class SilenceOut(BaseModel):
    model_config = example(
        {
            "id": "8c1f2a9b0d3e4f56",
            "matchers": ["subdistrict=yinhang"],
            "starts_at": T0,
            "ends_at": "2026-11-25T12:00:00Z",
            "created_by": "duty-officer-li",
            "comment": "planned works",
            "active": True,
        }
    )

    id: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    active: bool
