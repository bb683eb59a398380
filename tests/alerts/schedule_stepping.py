"""Stepping the evaluator (not only the state machine) through local clock times, without a
database: a City built from a hand-made catalogue, readings merged as the engine merges them,
and the changes applied to memory as `EngineCore` applies them after a commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from alerts.engine.bindings import bind_rules
from alerts.engine.city import City
from alerts.engine.evaluator import evaluate
from alerts.engine.zones import ZoneOf, one_zone
from alerts.model import Alert, Phase, Transition
from alerts.rules.files import load_rule_files
from alerts.rules.rule_set import RuleSet
from schemas.geography import load_geography
from schemas.registry import Registry
from storage.catalog import Catalog, SensorRef
from storage.recent import RecentReadings

METRIC_IDS = {("noise_monitor", "laeq"): 1, ("streetlight", "lamp"): 2}

SHIPPED_GEOGRAPHY = load_geography()  # Yangpu, where the timed types' sensors are


def sensors_catalog(sensors: dict[str, tuple[str, str]]) -> Catalog:
    """`sensors`: external id -> (type, subdistrict); database ids in the given order."""
    refs = {
        ext: SensorRef(i + 1, ext, type_name, sub)
        for i, (ext, (type_name, sub)) in enumerate(sensors.items())
    }
    return Catalog(sensors=refs, metric_ids=dict(METRIC_IDS))


def rule_set(registry: Registry, rules_dir: Path) -> RuleSet:
    rules_dir.mkdir(parents=True, exist_ok=True)
    return load_rule_files(registry, rules_dir)


@dataclass
class Stepper:
    """The engine's evaluation at explicit times; `seen` keeps every transition as
    (local time text, rule id, subject id, kind, grade)."""

    registry: Registry
    rules: RuleSet
    catalog: Catalog
    zone_of: ZoneOf = field(default_factory=one_zone)
    active: dict[str, dict[str, Alert]] = field(default_factory=dict)
    seen: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.city = City(self.catalog, self.registry, SHIPPED_GEOGRAPHY)
        self.bindings = bind_rules(self.rules, self.city)

    def read(self, now: datetime, values: dict[tuple[str, str], float]) -> None:
        """Readings at `now`: (sensor, metric) -> value."""
        refs = [(self.catalog.sensors[s], m, v) for (s, m), v in values.items()]
        self.city.merge(
            RecentReadings(
                np.array([r.id for r, _, _ in refs], np.int32),
                np.array([METRIC_IDS[(r.type_name, m)] for r, m, _ in refs], np.int16),
                np.full(len(refs), now.timestamp()),
                np.array([v for _, _, v in refs], np.float64),
            )
        )

    def tick(self, now: datetime) -> list[Transition]:
        evaluation = evaluate(self.bindings, self.city, self.active, {}, now, self.zone_of)
        out: list[Transition] = []
        for change in evaluation.changes:
            after = change.after
            alerts = self.active.setdefault(after.rule_id, {})
            if after.phase in (Phase.PENDING, Phase.FIRING):
                alerts[after.subject.id] = after
            else:
                alerts.pop(after.subject.id, None)
            for transition in change.transitions:
                out.append(transition)
                self.seen.append(
                    (
                        after.rule_id,
                        after.subject.id,
                        transition.kind,
                        None if transition.grade is None else transition.grade.value,
                    )
                )
        return out

    def alert(self, rule_id: str, subject_id: str) -> Alert | None:
        return self.active.get(rule_id, {}).get(subject_id)
