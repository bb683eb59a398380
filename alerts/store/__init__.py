"""The alert tables in the database (storage/migrations/0005_alerts.sql)."""

from alerts.store.alerts import (
    ALERT_COLUMNS,
    alert_from_row,
    insert_transitions,
    load_active_alerts,
    load_ops_changes,
    upsert_alerts,
)

__all__ = [
    "ALERT_COLUMNS",
    "alert_from_row",
    "insert_transitions",
    "load_active_alerts",
    "load_ops_changes",
    "upsert_alerts",
]
