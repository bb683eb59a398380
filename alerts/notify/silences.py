"""Silences: label matchers and a time window, as in Alertmanager.

A silenced alert still moves through its states (the audit trail stays complete); the caller
only holds back its notifications. Matching follows Alertmanager: `=` and `!=` compare strings,
`=~` and `!~` are regular expressions matched against the whole value, and a label the alert
does not have counts as the empty string (so `sensor!=x` matches subdistrict alerts too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alerts.errors import SilenceError
from alerts.model import Alert

LABELS = frozenset({"rule_id", "type", "metric", "subdistrict", "sensor", "grade", "domain"})
_MATCHER = re.compile(r"^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in LABELS:
            raise SilenceError(
                f"matcher {self}: unknown label {self.name!r} (one of: {', '.join(sorted(LABELS))})"
            )
        pattern = None
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                pattern = re.compile(self.value)
            except re.error as error:
                raise SilenceError(f"matcher {self}: bad regular expression: {error}") from error
        object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """`subdistrict=yinhang`, `grade!=blue`, `type=~water_.*` (Alertmanager's syntax; the
        value may be quoted)."""
        match = _MATCHER.match(text)
        if match is None:
            raise SilenceError(f"matcher {text!r}: expected label=value, !=, =~ or !~")
        name, op, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return cls(name, MatchOp(op), value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._pattern is not None:
            found = self._pattern.fullmatch(actual) is not None
            return found if self.op is MatchOp.REGEX else not found
        return (actual == self.value) is (self.op is MatchOp.EQUAL)

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value!r}"


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    def __post_init__(self) -> None:
        if not self.matchers:
            raise SilenceError(f"silence {self.id!r}: needs at least one matcher")
        if all(m.matches({}) for m in self.matchers):
            # Alertmanager's guard: matchers that all match an empty label set would silence
            # every alert in the city, which is never what a duty officer means.
            raise SilenceError(
                f"silence {self.id!r}: at least one matcher must need a label value "
                f"({', '.join(str(m) for m in self.matchers)} would silence everything)"
            )
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise SilenceError(f"silence {self.id!r}: times need a UTC offset")
        if self.ends_at <= self.starts_at:
            raise SilenceError(
                f"silence {self.id!r}: ends_at ({self.ends_at}) must be after "
                f"starts_at ({self.starts_at})"
            )
        if not self.created_by.strip():
            raise SilenceError(f"silence {self.id!r}: created_by must name who silenced")

    def active_at(self, now: datetime) -> bool:
        """Active from starts_at (inclusive) to ends_at (exclusive)."""
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)


def alert_labels(alert: Alert) -> dict[str, str]:
    """The labels silences match on: the rule's static labels plus the alert's current grade."""
    labels = dict(alert.labels)
    labels["rule_id"] = alert.rule_id
    labels.setdefault("domain", alert.subject.domain)
    if alert.subject.subdistrict is not None:
        labels.setdefault("subdistrict", alert.subject.subdistrict)
    if alert.subject.kind == "sensor":
        labels.setdefault("sensor", alert.subject.id)
    if alert.grade is not None:
        labels["grade"] = alert.grade.value
    return labels


def is_silenced(
    alert_labels: Mapping[str, str], silences: Iterable[Silence], now: datetime
) -> Silence | None:
    """The active silence covering these labels, or None. When several do, the one that ends
    last, so the wall can say how long the alert stays quiet."""
    found: Silence | None = None
    for silence in silences:
        later = found is None or silence.ends_at > found.ends_at
        if later and silence.active_at(now) and silence.matches(alert_labels):
            found = silence
    return found
