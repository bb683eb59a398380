"""Prometheus metrics of one alert-engine process, in a registry of its own (no module globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class AlertMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.leader = Gauge(
            "cityvitals_alerts_leader", "1 while this replica evaluates, 0 on standby", registry=r
        )
        self.tick_seconds = Histogram(
            "cityvitals_alerts_tick_seconds",
            "Time of one evaluation tick: read, evaluate, plan, commit",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.tick_failures = Counter(
            "cityvitals_alerts_tick_failures", "Ticks that failed and were retried", registry=r
        )
        self.readings = Counter(
            "cityvitals_alerts_readings_read", "Readings read by the ticks", registry=r
        )
        self.transitions = Counter(
            "cityvitals_alerts_transitions", "Alert transitions, by kind", ["kind"], registry=r
        )
        self.notifications_planned = Counter(
            "cityvitals_alerts_notifications_planned", "Notifications put in the outbox", registry=r
        )
        self.deliveries = Gauge(
            "cityvitals_alerts_delivery_attempts",
            "Delivery attempts by this replica since it started, by outcome",
            ["outcome"],
            registry=r,
        )
        self.active = Gauge(
            "cityvitals_alerts_active", "Pending and firing alerts in memory", registry=r
        )
        self.reload_failures = Counter(
            "cityvitals_alerts_reload_failures",
            "Rule or receiver files rejected on reload (the old ones stay)",
            registry=r,
        )

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Expose /metrics on `port` (a background thread of prometheus_client)."""
        start_http_server(port, addr=host, registry=self.registry)
