"""What the ingest needs to know, built by the composition root (`cityvitals`) from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from schemas.inventory import UnknownSensorPolicy


@dataclass(frozen=True)
class Limits:
    """Payload limits; the HTTP ingest applies the same."""

    max_payload_bytes: int = 65_536
    max_reports: int = 1_000
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class IngestConfig:
    mqtt_url: str
    # Fixed, so the broker keeps this worker's session (and its queued messages) across
    # restarts; each worker of a shared subscription needs its own.
    client_id: str = "cityvitals-ingest-1"
    # Workers with the same group split the stream ($share/<group>/...); None: no sharing.
    shared_group: str | None = None
    mqtt_ca_file: Path | None = None
    session_expiry_s: float = 86_400.0
    receive_maximum: int = 20_000
    keepalive_s: int = 30
    max_batch: int = 5_000
    max_backoff_s: float = 10.0
    drain_timeout_s: float = 30.0
    unknown_sensor_policy: UnknownSensorPolicy = UnknownSensorPolicy.DEAD_LETTER
    limits: Limits = field(default_factory=Limits)
