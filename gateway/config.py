"""What the gateway needs to know, built by the composition root (`cityvitals`) from settings.

Durations are in seconds. The defaults are those of the settings (`cityvitals settings` shows
what is in effect and how to change it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.console_files import PACKAGES_DIR
from ingest.config import Limits
from schemas.geography import Geography, load_geography
from schemas.inventory import UnknownSensorPolicy


@dataclass(frozen=True)
class GatewayConfig:
    database_url: str
    # The broker, for /readyz only: the gateway publishes nothing.
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_ca_file: Path | None = None
    # HTTP ingest applies the MQTT ingest's payload limits and unknown-sensor policy.
    unknown_sensor_policy: UnknownSensorPolicy = UnknownSensorPolicy.DEAD_LETTER
    ingest_limits: Limits = field(default_factory=Limits)
    # Districts and subdistricts: placing registered sensors, validating subdistrict codes.
    geography: Geography = field(default_factory=load_geography)
    # `make demo` only: its backfill.json (JSON, "state": "filling" or "done"), which /healthz
    # repeats as `history` so the console's wall can say that history is being filled.
    history_state_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    max_request_bytes: int = 1_048_576
    cors_origins: tuple[str, ...] = ()
    pool_size: int = 8
    statement_timeout: float = 10.0
    work_mem: str = "32MB"
    max_page: int = 1_000
    max_points: int = 10_000
    max_raw_span: float = 7 * 86_400.0
    max_export_span: float = 31 * 86_400.0
    max_exports: int = 2
    vital_signs_ttl: float = 5.0
    stream_vital_signs_every: float = 10.0
    stream_alerts_every: float = 1.0
    stream_keepalive: float = 15.0
    max_streams: int = 100
    docs: bool = True
    # The console's front-end packages (`npm ci` by `make setup`); missing: the console answers 503.
    console_packages: Path = PACKAGES_DIR
    auth_failures_per_minute: int = 20
    max_streams_per_key: int = 5
    max_export_duration: float = 1800.0
    trusted_hosts: tuple[str, ...] = ("*",)
    # Served by uvicorn (cityvitals.services.gateway_server); here as every setting is.
    keep_alive_timeout: float = 5.0
    max_header_bytes: int = 16_384
    max_connections: int = 1_000
