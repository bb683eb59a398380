"""Settings: a YAML file, overridden by CITYVITALS_* environment variables, validated at start.

Nested keys use a double underscore in the environment: ``storage.raw_retention_days`` is
``CITYVITALS_STORAGE__RAW_RETENTION_DAYS``. Every error names the setting both ways, so whoever
deploys can fix it whichever way they set it.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from schemas.durations import Duration
from schemas.geography import DEFAULT_GEOGRAPHY
from schemas.inventory import UnknownSensorPolicy
from schemas.registry import SENSOR_TYPES_DIR
from schemas.yaml_loader import load_yaml_file
from storage.backend import BackendPreference
from storage.policy import StoragePolicy

ENV_PREFIX = "CITYVITALS_"
CONFIG_ENV = "CITYVITALS_CONFIG"


class SettingsError(Exception):
    """Settings are invalid; the message lists each bad setting by name."""


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: BackendPreference = BackendPreference.AUTO
    partitions_ahead_days: int = Field(default=7, ge=1, le=60)
    raw_retention_days: int = Field(default=90, ge=2)
    rollup_1m_retention_days: int = Field(default=90, ge=1)
    rollup_1h_retention_days: int = Field(default=1825, ge=1)
    compress_after_days: int = Field(default=7, ge=1)
    late_data_horizon_days: int = Field(default=7, ge=1)
    maintenance_interval: Duration = 60.0

    def policy(self) -> StoragePolicy:
        return StoragePolicy(
            partitions_ahead_days=self.partitions_ahead_days,
            raw_retention=timedelta(days=self.raw_retention_days),
            rollup_1m_retention=timedelta(days=self.rollup_1m_retention_days),
            rollup_1h_retention=timedelta(days=self.rollup_1h_retention_days),
            compress_after=timedelta(days=self.compress_after_days),
            late_data_horizon=timedelta(days=self.late_data_horizon_days),
        )


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Fixed, so the broker keeps this worker's session (and its queued messages) across restarts;
    # each worker of a shared subscription needs its own.
    client_id: str = Field(default="cityvitals-ingest-1", min_length=1, max_length=64)
    # Workers with the same group split the stream ($share/<group>/...); None: no sharing.
    shared_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    session_expiry: Duration = 86400.0
    receive_maximum: int = Field(default=20_000, ge=1, le=65_535)
    keepalive: int = Field(default=30, ge=5, le=600)
    max_batch: int = Field(default=5_000, ge=1, le=50_000)
    max_payload_bytes: int = Field(default=65_536, ge=256, le=16 * 1024 * 1024)
    max_reports_per_message: int = Field(default=1_000, ge=1)
    max_future: Duration = 300.0
    max_age: Duration | None = Field(
        default=None, description="Oldest reading accepted; default: the raw retention"
    )
    max_backoff: Duration = 10.0
    drain_timeout: Duration = 30.0
    metrics_host: str = Field(default="127.0.0.1", description="0.0.0.0 for a remote scraper")
    # When taken (another worker on this host), the next free port is used and logged.
    metrics_port: int = Field(default=9101, ge=0, le=65_535, description="0 disables /metrics")


def default_engine_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Rule files that add to and override the defaults derived from the sensor types;
    # None: the shipped ones (alerts/rules).
    rules_dir: Path | None = None
    # Receivers and routes (YAML); None: alerts are evaluated and stored but nobody is notified.
    receivers_path: Path | None = None
    tick: Duration = Field(default=1.0, description="Evaluation interval")
    # Readings that reach the database later than this after their own timestamp are stored
    # (and in rollups and window aggregates) but too late to move a latest-value alert.
    lateness: Duration = 60.0
    reload_interval: Duration = Field(default=5.0, description="How often rule files are checked")
    # Unique per replica; replicas share the database and one of them evaluates at a time.
    engine_name: str = Field(default_factory=default_engine_name, min_length=1, max_length=64)
    external_url: str = Field(default="", description="Link to the ops wall in notifications")
    delivery_concurrency: int = Field(default=8, ge=1, le=256)
    metrics_host: str = Field(default="127.0.0.1", description="0.0.0.0 for a remote scraper")
    # When taken (another engine on this host), the next free port is used and logged.
    metrics_port: int = Field(default=9102, ge=0, le=65_535, description="0 disables /metrics")

    @field_validator("rules_dir")
    @classmethod
    def _rules_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @field_validator("receivers_path")
    @classmethod
    def _receivers(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} does not exist")
        return value


class GatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="0.0.0.0 to serve other machines")
    port: int = Field(default=8080, ge=0, le=65_535)
    max_request_bytes: int = Field(default=1_048_576, ge=1_024, le=64 * 1024 * 1024)
    # Browser origins allowed to call the API (Grafana, the ops wall); empty: no CORS headers.
    cors_origins: list[str] = Field(default_factory=list)
    pool_size: int = Field(default=8, ge=2, le=100)
    statement_timeout: Duration = Field(default=10.0, description="Longest query allowed")
    # Sort memory per query: a subdistrict's week at 5-minute buckets sorts ~170k rollup rows.
    work_mem: str = Field(default="32MB", pattern=r"^\d+(kB|MB|GB)$")
    max_page: int = Field(default=1_000, ge=1, le=100_000, description="Largest page of items")
    max_points: int = Field(default=10_000, ge=10, description="Most buckets in one answer")
    max_raw_span: Duration = Field(default=7 * 86400.0, description="Longest raw-data range")
    max_export_span: Duration = Field(default=31 * 86400.0, description="Longest export")
    max_exports: int = Field(default=2, ge=1, le=64, description="Exports streaming at once")
    vital_signs_ttl: Duration = Field(default=5.0, description="Vital signs reused this long")
    stream_vital_signs_every: Duration = 10.0
    stream_alerts_every: Duration = 1.0
    stream_keepalive: Duration = 15.0
    max_streams: int = Field(default=100, ge=1, description="Live-stream clients at once")
    # /docs and /openapi.json describe the API (no city data) and are served without a key,
    # so the Swagger UI can load; false: not served at all.
    docs: bool = True
    # Wrong API keys one client address may send in a burst, then one per 60/N s; more: 429
    # before any lookup (gateway.failed_auth). Good keys are never counted.
    auth_failures_per_minute: int = Field(default=20, ge=1, le=100_000)
    # Live streams one API key may hold at once (of max_streams); more: 429.
    max_streams_per_key: int = Field(default=5, ge=1, description="Live streams per API key")
    # An export still streaming after this is cut off (the client gets an incomplete body) and
    # its slot and database connection are given back: a slow reader cannot keep them.
    max_export_duration: Duration = Field(default=1800.0, description="Longest an export runs")
    # Host headers answered (Starlette's TrustedHostMiddleware: "api.example.org",
    # "*.example.org"); any other gets 400. "*", the default, accepts any Host: list your names
    # when the gateway serves other machines. No answer ever repeats the Host (no redirects).
    trusted_hosts: tuple[str, ...] = ("*",)
    # uvicorn's limits: idle keep-alive connections are closed after keep_alive_timeout, a
    # request whose headers pass max_header_bytes gets 400, and past max_connections open
    # connections new requests get 503. uvicorn has no timeout for a slow client's headers or
    # body: put a reverse proxy in front (deploy/README.md says which settings).
    keep_alive_timeout: Duration = 5.0
    max_header_bytes: int = Field(default=16_384, ge=1_024, le=1_048_576)
    max_connections: int = Field(default=1_000, ge=10, description="Open connections at once")

    @field_validator("trusted_hosts")
    @classmethod
    def _host_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            wildcard_ok = pattern == "*" or (pattern.startswith("*.") and "*" not in pattern[1:])
            if "*" in pattern and not wildcard_ok:
                raise ValueError(f"{pattern!r}: a wildcard only as '*' or '*.example.org'")
        return value

    @model_validator(mode="after")
    def _exports_leave_connections(self) -> GatewaySettings:
        # An export holds a pooled connection for as long as it streams: with as many exports
        # as connections, every other request (the API-key check first) would wait for one.
        if self.max_exports >= self.pool_size:
            raise ValueError(
                f"max_exports ({self.max_exports}) must be below pool_size ({self.pool_size}): "
                "each export holds a database connection while it streams"
            )
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str = "postgresql://postgres@127.0.0.1:5432/cityvitals"
    # mqtts://user:password@host:8883 for TLS and broker authentication (quote special
    # characters in the password with %XX, as in any URL).
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    # CA certificate(s), PEM, that signed the broker's TLS certificate (mqtts:// only);
    # None: the system's trusted CAs.
    mqtt_ca_file: Path | None = None
    sensor_types_dir: Path = SENSOR_TYPES_DIR
    # GeoJSON files, one per district (schemas/geography/*.geojson); several for a city platform.
    geography: list[Path] = Field(default_factory=lambda: [DEFAULT_GEOGRAPHY], min_length=1)
    inventory_path: Path | None = None
    unknown_sensor_policy: UnknownSensorPolicy = UnknownSensorPolicy.DEAD_LETTER
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ValueError("must look like postgresql://user:password@host:5432/dbname")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        try:
            parts.port  # noqa: B018 - raises ValueError on a non-numeric port
        except ValueError as error:
            raise ValueError(f"bad port: {error}") from error
        return value

    @field_validator("mqtt_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return value
        if not value.is_file():
            raise ValueError(f"{value} does not exist")
        if urlsplit(info.data.get("mqtt_url", "")).scheme != "mqtts":
            raise ValueError("a CA file is only used with TLS: make mqtt_url mqtts://")
        return value

    @field_validator("sensor_types_dir")
    @classmethod
    def _existing_dir(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @field_validator("geography")
    @classmethod
    def _existing_files(cls, value: list[Path]) -> list[Path]:
        missing = [str(path) for path in value if not path.is_file()]
        if missing:
            raise ValueError(f"{', '.join(missing)} does not exist")
        if len(set(value)) != len(value):
            raise ValueError("lists a file twice")
        return value

    @field_validator("inventory_path")
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} does not exist")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()


class _FileSource(PydanticBaseSettingsSource):
    """Values read from the YAML settings file (lower priority than the environment)."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (or $CITYVITALS_CONFIG), the environment and `overrides`."""
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    file_values = _read_file(path) if path is not None else {}

    class _Bound(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, _FileSource(settings_cls, file_values)

    try:
        bound = _Bound(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error, path)) from error
    return Settings.model_construct(**dict(bound))


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file {path} does not exist ({CONFIG_ENV} or --config)")
    try:
        values = load_yaml_file(path)
    except yaml.YAMLError as error:
        raise SettingsError(f"settings file {path}: invalid YAML: {error}") from error
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise SettingsError(f"settings file {path}: expected a mapping of settings")
    return values


def _describe(error: ValidationError, path: Path | None) -> str:
    sources = f"settings file {path} and CITYVITALS_* variables" if path else "CITYVITALS_*"
    lines = [f"invalid settings (from {sources}):"]
    for problem in error.errors():
        dotted = ".".join(str(part) for part in problem["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in problem["loc"]).upper()
        message = "unknown setting" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"  {env_name} / {dotted}: {message}")
    return "\n".join(lines)
