"""The shape of one sensor-type YAML file.

Pydantic checks the structure (types, required keys, no unknown keys); the cross-field rules
(unit known, thresholds inside the physical range and in grade order) live in `validation.py` so
each problem can name its exact key. The JSON Schema editors use is generated from these models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.durations import Duration, Offset
from schemas.grades import GRADES_BY_SEVERITY as GRADES_BY_SEVERITY  # re-exported: types speak
from schemas.grades import Grade as Grade  # in grades, and many modules import them from here
from schemas.schedules import DAY_NAMES, TIME_RANGE_REGEX, Schedule, parse_schedule

NAME_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
DATA_MODEL_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
# Metrics of one sensor type at most. The busiest shipped type has 6 and a multi-function
# station a few dozen; the cap keeps a posted type (and every answer that shows it) small.
MAX_METRICS = 64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BilingualName(_Strict):
    zh: str = Field(min_length=1, description="Chinese display name (shown by default)")
    en: str = Field(min_length=1, description="English display name")


class MetricKind(StrEnum):
    GAUGE = "gauge"  # a level that goes up and down (pressure, temperature)
    COUNTER = "counter"  # a cumulative total that only grows (kWh, m3)
    STATE = "state"  # a discrete state: 0/1 (alarm, occupied) or the index of one of `states`


class IntegerPolicy(StrEnum):
    """What a precision-0 metric does with a reading that has a fraction."""

    ROUND = "round"  # to the nearest whole number, halves to even (Python's round)
    REJECT = "reject"  # refused as wrong_value_type: a fraction of a vehicle is a device fault


class Range(_Strict):
    min: float = Field(description="Lowest physically possible value; lower ones are rejected")
    max: float = Field(description="Highest physically possible value; higher ones are rejected")


class GradeLevels(_Strict):
    """Threshold per grade for one direction; a grade left out is not raised for this metric."""

    blue: float | None = None
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None
    hold: Duration | None = Field(
        default=None, description="How long the condition must hold before the alert fires"
    )
    keep_firing_for: Offset | None = Field(
        default=None,
        description=(
            "How long the alert keeps firing once the value is back on the safe side, before "
            "it resolves or steps down (default: hold, a symmetric debounce)"
        ),
    )

    def levels(self) -> list[tuple[Grade, float]]:
        """Declared (grade, threshold) pairs, least severe first."""
        return [(g, v) for g in GRADES_BY_SEVERITY if (v := getattr(self, g.value)) is not None]


class ScheduledLevels(_Strict):
    """Other levels while a schedule is in force (see schemas/schedules.py); a direction left out
    keeps its unscheduled levels. Hold and keep_firing_for are the unscheduled ones."""

    time: Annotated[str, WithJsonSchema({"type": "string", "pattern": TIME_RANGE_REGEX})] | None = (
        Field(
            default=None,
            description="Local time range 'HH:MM-HH:MM', start included; '22:00-06:00' crosses "
            "midnight",
        )
    )
    days: (
        list[Annotated[str, WithJsonSchema({"type": "string", "enum": list(DAY_NAMES)})]] | None
    ) = Field(
        default=None,
        description="Days it applies (mon ... sun); for a range crossing midnight, the day the "
        "range starts",
    )
    above: GradeLevels | None = None
    below: GradeLevels | None = None

    def schedule(self, name: str) -> Schedule:
        """The parsed schedule; the registry has checked it (ValueError if it was not)."""
        schedule, findings = parse_schedule(name, self.time, self.days)
        if schedule is None:
            raise ValueError(f"schedule {name!r}: {findings}")
        return schedule


class StateIn(_Strict):
    """An enumerated state metric alerts while its state is one of `labels`."""

    labels: list[str] = Field(min_length=1, description="States that raise the alert")
    grade: Grade = Field(default=Grade.YELLOW, description="The grade it fires at")
    hold: Duration | None = Field(
        default=None, description="How long the state must last before the alert fires"
    )
    keep_firing_for: Offset | None = Field(
        default=None,
        description="How long it keeps firing once the state is another (default: hold)",
    )


class Thresholds(_Strict):
    above: GradeLevels | None = Field(default=None, description="Alert when the value rises to")
    below: GradeLevels | None = Field(default=None, description="Alert when the value falls to")
    schedules: dict[str, ScheduledLevels] | None = Field(
        default=None,
        description=(
            "Other levels at some times of day or days of the week, by name (night, weekend), "
            "in the district's time zone; the first listed that is in force wins, and 'above'/"
            "'below' apply when none is"
        ),
    )
    state_in: StateIn | None = Field(
        default=None, description="For an enumerated state metric: alert on these states"
    )


class Profile(StrEnum):
    """Daily shape of a simulated signal."""

    FLAT = "flat"
    OFFICE_HOURS = "office_hours"  # high 08-19 on working days
    COMMUTE = "commute"  # morning and evening peaks
    EVENING_PEAK = "evening_peak"  # residential power, 18-22
    NIGHT_MINIMUM = "night_minimum"  # water demand, low 01-05
    NIGHT_MAXIMUM = "night_maximum"  # water pressure, rises when demand falls
    DAYTIME = "daytime"  # sun-driven: temperature


class MetricSimulation(_Strict):
    baseline: float = Field(description="Typical value (for counters: increase per hour)")
    daily_amplitude: float = Field(default=0.0, ge=0, description="Swing of the daily profile")
    profile: Profile = Profile.FLAT
    noise: float = Field(default=0.0, ge=0, description="Standard deviation of reading noise")
    drift: float = Field(default=0.0, ge=0, description="Amplitude of slow weather-like drift")
    event_rate_per_day: float = Field(
        default=0.0, ge=0, description="For state metrics: how often the state flips to 1 per day"
    )


UNIT_DESCRIPTION = (
    "The unit readings are stored and shown in: any unit pint understands (kPa, m3/h, µg/m³, "
    "degF), a symbol of schemas/units.py (%RH, dB(A), pH, NTU, AQI, index, PF, count, bool, "
    "state) or a UN/CEFACT common code (GQ, CEL, P1, ...). Readings sent in another unit of the "
    "same quantity are converted into it"
)


class Metric(_Strict):
    display_name: BilingualName
    unit: str = Field(min_length=1, max_length=32, description=UNIT_DESCRIPTION)
    kind: MetricKind = MetricKind.GAUGE
    states: list[str] | None = Field(
        default=None,
        description=(
            "For a state metric: its states in order, as snake_case labels (at least 2). A "
            "reading sends a label or its index; the index is stored and the label shown"
        ),
    )
    state_names: dict[str, BilingualName] | None = Field(
        default=None,
        description="Names people read for some states, by label (zh, en); others show the label",
    )
    range: Range
    precision: int = Field(
        ge=0,
        le=6,
        description=(
            "Decimal places worth storing and showing; readings are rounded to it on ingest "
            "(after unit conversion and the range check)"
        ),
    )
    integer: IntegerPolicy = Field(
        default=IntegerPolicy.ROUND,
        description="For precision 0: round a reading with a fraction, or reject it",
    )
    aliases: list[str] = Field(
        default_factory=list,
        description=(
            "Other names devices send this metric under (relativeHumidity, LAeq): free text, "
            "up to 64 printable characters, matched exactly"
        ),
    )
    description: str | None = None
    additive: bool = Field(
        default=False,
        description=(
            "The sensors' values add up to a figure for a place (power drawn, free spaces): "
            "walls show their sum. Otherwise walls show the worst value in the direction of "
            "the thresholds (the highest for 'above', the lowest for 'below')"
        ),
    )
    thresholds: Thresholds | None = None
    simulator: MetricSimulation | None = None

    @field_validator("states", mode="before")
    @classmethod
    def _labels_not_yaml_booleans(cls, value: object) -> object:
        # YAML 1.1 reads on/off/yes/no as booleans: say so rather than "not a valid string".
        if isinstance(value, list) and any(isinstance(label, bool) for label in value):
            raise PydanticCustomError(
                "yaml_boolean_state",
                "YAML read a label (on, off, yes, no) as a boolean: quote it, e.g. ['on', 'off']",
            )
        return value


class TypeSimulation(_Strict):
    per_subdistrict: int = Field(
        default=10, ge=0, description="Sensors of this type per subdistrict in the default city"
    )
    hotspots: dict[str, float] = Field(
        default_factory=dict,
        description="Subdistrict code -> density multiplier (dense parking around wujiaochang)",
    )
    jitter: float = Field(
        default=0.1, ge=0, le=1, description="Reporting jitter as a fraction of the interval"
    )


class SensorType(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Stable identifier, snake_case")
    domain: str = Field(
        pattern=NAME_PATTERN, description="Its domain's code, declared in domains.yaml"
    )
    display_name: BilingualName
    description: str = Field(min_length=1)
    vendor_examples: list[str] = Field(default_factory=list)
    data_model: str | None = Field(
        default=None,
        pattern=DATA_MODEL_PATTERN,
        description=(
            "The FIWARE Smart Data Model its devices follow (AirQualityObserved): a keyValues "
            "payload must then carry this 'type'"
        ),
    )
    reporting_interval: Duration = Field(description="Expected time between two reports")
    metrics: dict[str, Metric] = Field(
        min_length=1,
        max_length=MAX_METRICS,
        description=f"The readings it reports, by name: 1 to {MAX_METRICS}",
    )
    vital: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description=(
            "The metric that stands for the type on the city overview (its vital sign); "
            "default: the first metric that is not a counter"
        ),
    )
    simulator: TypeSimulation = Field(default_factory=TypeSimulation)

    @field_validator("metrics", mode="before")
    @classmethod
    def _at_most_max_metrics(cls, value: object) -> object:
        # Before validating each metric (20,000 of them took seconds), in the engineers' words.
        if isinstance(value, dict) and len(value) > MAX_METRICS:
            raise PydanticCustomError(
                "too_many_metrics",
                f"at most {MAX_METRICS} metrics per sensor type, not {len(value):,}",
            )
        return value

    @model_validator(mode="after")
    def _vital_is_a_metric(self) -> Self:
        if self.vital is not None and self.vital not in self.metrics:
            raise PydanticCustomError(
                "unknown_vital_metric",
                "vital: '{vital}' is not one of its metrics ({metrics})",
                {"vital": self.vital, "metrics": ", ".join(self.metrics)},
            )
        return self

    def metric(self, name: str) -> Metric:
        return self.metrics[name]

    def vital_metric(self) -> str:
        """The metric on the overview: `vital`, else the first that is not a counter (a
        counter's running total says nothing about now), else the first."""
        if self.vital is not None:
            return self.vital
        gauges = [n for n, m in self.metrics.items() if m.kind is not MetricKind.COUNTER]
        return (gauges or list(self.metrics))[0]
