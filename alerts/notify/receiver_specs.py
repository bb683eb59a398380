"""The receivers file as written: its pydantic models, before names, secrets, addresses and
routes are checked and resolved into the `Routing` of `alerts.notify.receivers` (which holds the
format's description)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Grade
from alerts.notify.escalation import EscalateSpec
from alerts.notify.grouping import DEFAULT_GROUP_BY
from schemas.durations import Duration, Offset

DEFAULT_REPEAT_INTERVAL_S = 4 * 3600.0  # Alertmanager's default
# Alertmanager waits 30 s before a new group's first message so a burst arrives as one. A duty
# officer should hear of a burst main within seconds, so the first message goes at once and
# whatever joins the group follows as one update per group_interval (200 sensors: 2 messages,
# or 1 if they breach in the same tick). Set group_wait for Alertmanager's behaviour.
DEFAULT_GROUP_WAIT_S = 0.0
DEFAULT_GROUP_INTERVAL_S = 60.0
_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class ReceiverKind(StrEnum):
    WEBHOOK = "webhook"  # Alertmanager webhook v4 JSON, signed with our HMAC headers
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReceiverSpec(_Strict):
    name: str = Field(pattern=_NAME)
    kind: ReceiverKind
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    timeout: Duration = 10.0
    max_alerts: int = Field(default=0, ge=0)
    send_resolved: bool = True
    msg_type: Literal["interactive", "text"] | None = None


class RouteSpec(_Strict):
    receiver: str
    grades: list[Grade] | None = Field(default=None, min_length=1)
    min_grade: Grade | None = None
    domains: list[str] | None = Field(default=None, min_length=1)
    subdistricts: list[str] | None = Field(default=None, min_length=1)
    districts: list[str] | None = Field(default=None, min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    group_by: list[str] | None = None
    group_wait: Offset | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(default=False, alias="continue")
    escalate: EscalateSpec | None = None


class RoutingSpec(_Strict):
    # Items are validated one by one (`_item`) so one bad receiver does not hide the problems
    # of the others or of the routes: every problem is reported in one pass.
    receivers: list[dict[str, Any]] = Field(min_length=1)
    routes: list[dict[str, Any]] = Field(default_factory=list)
    default_receiver: str | None = None
    group_by: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUP_BY))
    group_wait: Offset = DEFAULT_GROUP_WAIT_S
    group_interval: Duration = DEFAULT_GROUP_INTERVAL_S
    repeat_interval: Duration = DEFAULT_REPEAT_INTERVAL_S
    # Receivers on this host or link-local addresses (alerts.notify.destinations): for demos
    # and tests only.
    allow_local_urls: bool = False
