"""Errors raised by the alert engine's pure core.

Hierarchy::

    AlertError
    ├── AlertStateError     an ops action the alert's current state does not allow
    │   └── AlertStillFiring  closing an alert whose condition holds, unconfirmed
    ├── AlertActionError    an ops action called with unusable input (no actor, empty note)
    ├── AlertNotFound       an ops action on a fingerprint no stored alert has
    ├── SilenceError        a silence or matcher that cannot work (bad regex, empty window)
    ├── RuleError           rule files are invalid          } also schemas.errors.SchemaError:
    └── ReceiversError      the receivers file is invalid   } every Problem (file, dotted key,
                                                              message), like the registry's

The file errors derive from SchemaError as well because rule and receiver files are files
engineers edit, like the sensor types: the same CLI output and the same "fix the whole folder in
one pass" experience (see `file_problems.py`).
"""

from __future__ import annotations

from alerts.model import Alert
from schemas.errors import SchemaError


class AlertError(Exception):
    """Base of alert-engine errors."""


class AlertStateError(AlertError):
    """An ops action (acknowledge, assign, close, note) that the alert's state does not allow."""

    def __init__(self, alert: Alert, action: str, reason: str) -> None:
        self.alert = alert
        self.action = action
        self.reason = reason
        subject = alert.subject
        super().__init__(
            f"cannot {action} alert {alert.rule_id!r} on {subject.kind} {subject.id!r} "
            f"(fingerprint {alert.fingerprint}, phase {alert.phase.value}, "
            f"ops {alert.ops.value}): {reason}"
        )


class AlertStillFiring(AlertStateError):
    """Closing an alert whose condition still holds (pending or firing) without confirming it:
    the duty officer must say so explicitly and leave a note why (API `confirm_firing`, CLI
    `--confirm-firing`)."""


class AlertActionError(AlertError, ValueError):
    """An ops action with input that cannot be recorded, e.g. no one named as the actor.
    `field`: the input at fault when one is (the API names it), e.g. "note"."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AlertNotFound(AlertError, LookupError):
    """No stored alert has this fingerprint."""


class SilenceError(AlertError, ValueError):
    """A silence that cannot be used: unknown label, bad regex, ends before it starts."""


class RuleError(SchemaError, AlertError):
    """One or more rule files are invalid; `problems` lists every one (file, dotted key)."""


class ReceiversError(SchemaError, AlertError):
    """The receivers-and-routes file is invalid; `problems` lists every problem found."""
