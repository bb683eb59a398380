"""The shapes every part of the alert engine shares: subjects, alerts, transitions.

Modelled on Prometheus' alerting rule states (inactive, pending, firing) plus what an ops centre
needs on top: a grade that moves without reopening the alert, and the closed loop of
acknowledge, assign and close (闭环处置). Everything is immutable; `engine/state.py` computes the
next alert from the previous one and an observation, with time passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from schemas.grades import Grade

__all__ = [
    "CONDITION_HOLDS",
    "Alert",
    "Grade",
    "OpsState",
    "Phase",
    "Subject",
    "Transition",
    "closed_while_firing",
]


class Phase(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"  # condition true, hold time not yet over
    FIRING = "firing"
    RESOLVED = "resolved"  # was firing, condition cleared (past recovery and keep-firing)


class OpsState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    CLOSED = "closed"


# The phases in which the alert's condition holds: closing then needs a confirmation.
CONDITION_HOLDS = (Phase.PENDING, Phase.FIRING)


def closed_while_firing(phase: str, ops: str) -> bool:
    """For stored rows and alerts alike: closed by ops while the condition still holds."""
    return ops == OpsState.CLOSED and phase in CONDITION_HOLDS


@dataclass(frozen=True)
class Subject:
    """What an alert is about: one sensor, one subdistrict, a whole district or the city."""

    kind: str  # "sensor" | "subdistrict" | "district" | "city"
    id: str  # sensor external id, or the geography's subdistrict, district or city code
    domain: str  # a code declared in domains.yaml
    subdistrict: str | None = None  # None for district-wide and city-wide subjects


@dataclass(frozen=True)
class Alert:
    rule_id: str
    subject: Subject
    phase: Phase = Phase.INACTIVE
    grade: Grade | None = None
    value: float | None = None
    pending_since: datetime | None = None
    firing_since: datetime | None = None
    resolved_at: datetime | None = None
    grade_changed_at: datetime | None = None
    ops: OpsState = OpsState.OPEN
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    assignee: str | None = None
    note: str | None = None
    closed_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # Firing, but the value has been past the recovery level of the current grade since then:
    # `keep_firing_for` counts from here (Prometheus' KeepFiringSince). Stored so a restart
    # keeps the timer; None while the condition holds at the current grade.
    clearing_since: datetime | None = None

    @property
    def closed_while_firing(self) -> bool:
        """Ops closed it while its condition still holds: it stays on the duty list, marked,
        until the condition clears (see `engine/state.close`)."""
        return closed_while_firing(self.phase, self.ops)

    @property
    def fingerprint(self) -> str:
        """Stable identity of (rule, subject): one active alert per pair."""
        key = f"{self.rule_id}|{self.subject.kind}|{self.subject.id}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Transition:
    """One change worth an audit line (and maybe a notification)."""

    fingerprint: str
    at: datetime
    kind: str  # "pending", "firing", "grade_up", "grade_down", "resolved", "acknowledged", ...
    from_phase: Phase
    to_phase: Phase
    grade: Grade | None
    previous_grade: Grade | None
    value: float | None
    actor: str | None = None  # who, for ops actions
    note: str | None = None
