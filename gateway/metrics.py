"""Prometheus metrics of one gateway process, in a registry of its own (no module globals)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "cityvitals_gateway_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.seconds = Histogram(
            "cityvitals_gateway_request_seconds",
            "Time to answer (to the first byte of a stream), by route template",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.stored = Counter(
            "cityvitals_gateway_ingest_readings_stored",
            "Readings committed from HTTP ingest (new rows)",
            registry=r,
        )
        self.duplicates = Counter(
            "cityvitals_gateway_ingest_readings_duplicate",
            "Readings posted again that were already stored",
            registry=r,
        )
        self.dead_letters = Counter(
            "cityvitals_gateway_ingest_dead_letters",
            "HTTP-ingest payloads set aside, by reason",
            ["reason"],
            registry=r,
        )
        # What connected walls cost the database: one computation serves every client within
        # gateway.vital_signs_ttl, so this grows with time, not with the number of walls.
        self.vital_signs_computed = Counter(
            "cityvitals_gateway_vital_signs_computed",
            "Vital-signs computations run against the database (4 queries each)",
            registry=r,
        )
        self.streams = Gauge(
            "cityvitals_gateway_streams", "Live-stream clients connected", registry=r
        )


class MetricsMiddleware:
    """Counts and times every request by its route template (never the raw path: ids in
    paths would make one time series per sensor)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                self.metrics.seconds.labels(template).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
