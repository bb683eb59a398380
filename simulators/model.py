"""Shared shapes of the simulators: a simulated sensor and the effect of an incident on a metric.

Simulators import only `schemas`: a simulator plays the devices, it is not part of the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.sensor_type import SensorType


@dataclass(frozen=True)
class SimSensor:
    id: str  # as in the topic and the inventory
    sensor_type: SensorType
    subdistrict: str
    lat: float
    lon: float
    # Per-sensor character, drawn once from the seed: a constant offset per metric (in the
    # metric's unit) and a phase (0..1) that shifts its slow drift, so no two sensors look alike.
    offsets: dict[str, float] = field(default_factory=dict)
    phase: float = 0.0

    @property
    def type_name(self) -> str:
        return self.sensor_type.name

    @property
    def interval_s(self) -> float:
        return self.sensor_type.reporting_interval


@dataclass(frozen=True)
class Effect:
    """How an incident changes a metric at one moment: value * multiply + add, or `set`.

    `weight` (0..1) is how far into its ramp the incident is; 0 means no effect.
    """

    multiply: float = 1.0
    add: float = 0.0
    set: float | None = None
    weight: float = 1.0

    def apply(self, value: float) -> float:
        target = self.set if self.set is not None else value * self.multiply + self.add
        return value + (target - value) * self.weight


NO_EFFECT = Effect(weight=0.0)
