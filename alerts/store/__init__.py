"""The alert store: the only code that reads or writes the alert tables
(storage/migrations/0005_alerts.sql). Everything else calls the functions exported here.

    alerts.py      the engine's phase columns of `alerts`, and what a restarted engine resumes from
    ops.py         the ops centre's columns of `alerts`: acknowledge, assign, close, note
    audit.py       `alert_transitions`, the audit trail and the live stream's feed
    listings.py    alerts as the API, the shell and the vital signs read them
    outbox.py      `notifications` (the outbox) and `notification_groups` (the notification log)
    silences.py    `silences`
    leadership.py  the leader lock and `alert_engines`
    rows.py        an alert as a row and back

Invariants the store keeps: the engine and the ops actions never overwrite each other's columns
of `alerts`; an ops action bumps `ops_seq` so the engine sees exactly the changes since it last
looked; a notification's key and body never change once stored. Transactions are the caller's
(the engine commits a whole tick at once), except an ops action, which is one transaction.
"""

from alerts.store.alerts import (
    last_ops_seq,
    load_active_alerts,
    load_alerts,
    load_ops_changes,
    ops_changed,
    upsert_alerts,
)
from alerts.store.audit import (
    insert_transitions,
    last_transition_id,
    list_transitions,
    transitions_after,
)
from alerts.store.leadership import LEADER_LOCK, heartbeat, try_to_lead
from alerts.store.listings import firing_counts, get_alert, list_alerts, list_worst_first
from alerts.store.ops import OpsAction, apply_ops_action
from alerts.store.outbox import (
    DeliveryState,
    Queued,
    due_notifications,
    enqueue,
    load_groups,
    record_attempt,
    save_groups,
)
from alerts.store.rows import ALERT_COLUMNS, alert_from_row
from alerts.store.silences import expire_silence, insert_silence, list_silences, load_silences

__all__ = [
    "ALERT_COLUMNS",
    "LEADER_LOCK",
    "DeliveryState",
    "OpsAction",
    "Queued",
    "alert_from_row",
    "apply_ops_action",
    "due_notifications",
    "enqueue",
    "expire_silence",
    "firing_counts",
    "get_alert",
    "heartbeat",
    "insert_silence",
    "insert_transitions",
    "last_ops_seq",
    "last_transition_id",
    "list_alerts",
    "list_silences",
    "list_transitions",
    "list_worst_first",
    "load_active_alerts",
    "load_alerts",
    "load_groups",
    "load_ops_changes",
    "load_silences",
    "ops_changed",
    "record_attempt",
    "save_groups",
    "transitions_after",
    "try_to_lead",
    "upsert_alerts",
]
