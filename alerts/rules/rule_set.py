"""The merged set of rules in effect: defaults from the sensor types plus the rule files.

Rules come in families: a rule and the overrides that narrow it to some subdistricts or sensors
(`Rule.overrides` names the rule they narrow). For one subject exactly one member of each family
applies, the most specific whose scope matches: sensor > subdistrict > type. A disabled member
still wins, which is how an override switches a default off for one subdistrict or sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from alerts.rules.rule import Rule, SubjectKind
from schemas.registry import Registry

Family = tuple[Rule, ...]  # most specific first


@dataclass(frozen=True)
class RuleSet:
    registry: Registry
    rules: Mapping[str, Rule]  # every rule by id: variants and disabled rules included
    _sensor_families: Mapping[str, tuple[Family, ...]] = field(repr=False, compare=False)
    _vital_families: Mapping[SubjectKind, tuple[Family, ...]] = field(repr=False, compare=False)

    @classmethod
    def build(cls, registry: Registry, rules: Iterable[Rule]) -> RuleSet:
        by_id = {rule.id: rule for rule in rules}
        families: dict[str, list[Rule]] = {}
        for rule in by_id.values():
            families.setdefault(rule.family, []).append(rule)
        sensor: dict[str, list[Family]] = {}
        vital: dict[SubjectKind, list[Family]] = {}
        for members in families.values():
            members.sort(key=lambda r: (-r.scope.specificity, r.id))
            head = members[0]
            if head.subject_kind is SubjectKind.SENSOR:
                sensor.setdefault(head.scope.type_name, []).append(tuple(members))
            else:
                vital.setdefault(head.subject_kind, []).append(tuple(members))
        return cls(
            registry=registry,
            rules=by_id,
            _sensor_families={k: tuple(v) for k, v in sensor.items()},
            _vital_families={k: tuple(v) for k, v in vital.items()},
        )

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def get(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)

    def rules_for(self, type_name: str, subdistrict: str, sensor_id: str) -> list[Rule]:
        """The enabled rules that apply to one sensor (the evaluator may cache this per sensor:
        it only changes with the rule set)."""
        return _select(self._sensor_families.get(type_name, ()), subdistrict, sensor_id)

    def vital_sign_rules_for(self, kind: SubjectKind, subdistrict: str | None = None) -> list[Rule]:
        """Aggregate rules of subject `kind`: for one subdistrict (kind SUBDISTRICT), or the
        district-wide or city-wide ones; the evaluator computes each rule's aggregate per place
        and steps the alert with it."""
        return _select(self._vital_families.get(kind, ()), subdistrict, None)


def _select(families: Iterable[Family], subdistrict: str | None, sensor: str | None) -> list[Rule]:
    chosen: list[Rule] = []
    for family in families:
        for rule in family:
            if rule.scope.matches(subdistrict, sensor):
                if not rule.disabled:
                    chosen.append(rule)
                break
    return chosen


def changed_rule_ids(old: RuleSet, new: RuleSet) -> frozenset[str]:
    """Ids added, removed or defined differently; alerts of every other rule keep their state.

    Where a rule came from (`Rule.source`) is not part of equality, so moving a rule between files
    is no change.
    """
    ids = old.rules.keys() | new.rules.keys()
    return frozenset(i for i in ids if old.rules.get(i) != new.rules.get(i))
