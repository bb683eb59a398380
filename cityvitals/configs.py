"""Each package's configuration, built from the settings: the only place that reads both.

Packages own their configuration types (`ingest.config.IngestConfig`, `gateway.config.
GatewayConfig`, the alert engine's `EngineConfig`, storage's `StoragePolicy`) and never import
`cityvitals`; the settings (a file plus CITYVITALS_* variables, validated with names an operator
recognises) are mapped onto them here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cityvitals.settings import Settings
from gateway.config import GatewayConfig
from ingest.config import IngestConfig, Limits
from schemas.geography import load_geography

if TYPE_CHECKING:
    from alerts.engine.service import EngineConfig


def ingest_limits(settings: Settings) -> Limits:
    """The payload limits: MQTT and HTTP ingest apply the same."""
    config = settings.ingest
    max_age = config.max_age or settings.storage.raw_retention_days * 86_400.0
    return Limits(
        max_payload_bytes=config.max_payload_bytes,
        max_reports=config.max_reports_per_message,
        max_future=timedelta(seconds=config.max_future),
        max_age=timedelta(seconds=max_age),
    )


def ingest_config(settings: Settings) -> IngestConfig:
    config = settings.ingest
    return IngestConfig(
        mqtt_url=settings.mqtt_url,
        client_id=config.client_id,
        shared_group=config.shared_group,
        mqtt_ca_file=settings.mqtt_ca_file,
        session_expiry_s=config.session_expiry,
        receive_maximum=config.receive_maximum,
        keepalive_s=config.keepalive,
        max_batch=config.max_batch,
        max_backoff_s=config.max_backoff,
        drain_timeout_s=config.drain_timeout,
        unknown_sensor_policy=settings.unknown_sensor_policy,
        limits=ingest_limits(settings),
    )


def gateway_config(settings: Settings) -> GatewayConfig:
    gateway = dict(settings.gateway)  # values as validated (model_dump would format durations)
    gateway["cors_origins"] = tuple(gateway["cors_origins"])
    return GatewayConfig(
        database_url=settings.database_url,
        mqtt_url=settings.mqtt_url,
        mqtt_ca_file=settings.mqtt_ca_file,
        unknown_sensor_policy=settings.unknown_sensor_policy,
        ingest_limits=ingest_limits(settings),
        geography=load_geography(settings.geography),
        **gateway,
    )


def rules_dir(settings: Settings) -> Path:
    """The rule files in effect: the configured folder, else the shipped one."""
    from alerts.rules.files import RULES_DIR  # the alert engine's modules only where needed

    return settings.alerts.rules_dir or RULES_DIR


def engine_config(settings: Settings) -> EngineConfig:
    from alerts.engine.service import EngineConfig

    alerts = settings.alerts
    return EngineConfig(
        database_url=settings.database_url,
        rules_dir=rules_dir(settings),
        geography=load_geography(settings.geography),
        receivers_path=alerts.receivers_path,
        tick_s=alerts.tick,
        lateness_s=alerts.lateness,
        reload_interval_s=alerts.reload_interval,
        name=alerts.engine_name,
        external_url=alerts.external_url,
        delivery_concurrency=alerts.delivery_concurrency,
    )
