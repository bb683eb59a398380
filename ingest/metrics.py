"""Prometheus metrics of one ingest process, in a registry of its own (no module globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "cityvitals_ingest_messages_received", "MQTT messages received", registry=r
        )
        self.stored = Counter(
            "cityvitals_ingest_readings_stored", "Readings committed (new rows)", registry=r
        )
        self.duplicates = Counter(
            "cityvitals_ingest_readings_duplicate",
            "Readings already stored (redelivery or a device resending)",
            registry=r,
        )
        self.dead_letters = Counter(
            "cityvitals_ingest_dead_letters",
            "Messages set aside, by reason",
            ["reason"],
            registry=r,
        )
        self.batch_messages = Histogram(
            "cityvitals_ingest_batch_messages",
            "Messages per committed batch",
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000),
            registry=r,
        )
        self.commit_seconds = Histogram(
            "cityvitals_ingest_commit_seconds",
            "Time to commit a batch (readings, dead letters, status)",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.lag_seconds = Histogram(
            "cityvitals_ingest_lag_seconds",
            "From a batch's newest reading time to its commit",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )
        self.db_retries = Counter(
            "cityvitals_ingest_db_retries", "Commits retried after a database error", registry=r
        )
        self.reconnects = Counter(
            "cityvitals_ingest_mqtt_reconnects", "Connections to the broker made", registry=r
        )
        self.sessions_lost = Counter(
            "cityvitals_ingest_mqtt_sessions_lost",
            "Reconnects that found no session at the broker (its queue for us is gone)",
            registry=r,
        )
        self.in_flight = Gauge(
            "cityvitals_ingest_in_flight", "Messages received and not yet acknowledged", registry=r
        )

    def stored_total(self) -> float:
        """Readings committed so far by this process."""
        return self.registry.get_sample_value("cityvitals_ingest_readings_stored_total") or 0.0
