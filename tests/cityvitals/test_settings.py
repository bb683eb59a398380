"""Settings come from YAML and CITYVITALS_* variables, and bad ones are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityvitals.settings import SettingsError, load_settings
from storage.backend import BackendPreference


def test_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYVITALS_CONFIG", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("postgresql://")
    assert settings.storage.policy().raw_retention.days == 90


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "cv.yaml"
    config.write_text(
        "database_url: postgresql://file@db:5432/cv\n"
        "mqtt_url: mqtt://broker:1883\n"
        "storage: {backend: postgres, raw_retention_days: 30}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", "postgresql://env@db:5432/cv")
    monkeypatch.setenv("CITYVITALS_STORAGE__RAW_RETENTION_DAYS", "45")
    settings = load_settings(config)
    assert settings.database_url == "postgresql://env@db:5432/cv"
    assert settings.mqtt_url == "mqtt://broker:1883"
    assert settings.storage.backend is BackendPreference.POSTGRES
    assert settings.storage.raw_retention_days == 45


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "cv.yaml"
    config.write_text("log_level: debug\n", encoding="utf-8")
    monkeypatch.setenv("CITYVITALS_CONFIG", str(config))
    assert load_settings().log_level == "DEBUG"


def test_every_bad_setting_is_named_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", "mysql://db/cv")
    monkeypatch.setenv("CITYVITALS_MQTT_URL", "mqtt://broker:port")
    monkeypatch.setenv("CITYVITALS_SENSOR_TYPES_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("CITYVITALS_STORAGE__PARTITIONS_AHEAD_DAYS", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert (
        "CITYVITALS_DATABASE_URL / database_url: Value error, must look like postgresql://"
        in message
    )
    assert "CITYVITALS_MQTT_URL / mqtt_url: Value error, bad port" in message
    assert "CITYVITALS_SENSOR_TYPES_DIR / sensor_types_dir: Value error" in message
    assert "CITYVITALS_STORAGE__PARTITIONS_AHEAD_DAYS / storage.partitions_ahead_days" in message


def test_unknown_key_in_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "cv.yaml"
    config.write_text("databse_url: postgresql://x@db/cv\n", encoding="utf-8")
    with pytest.raises(
        SettingsError, match="CITYVITALS_DATABSE_URL / databse_url: unknown setting"
    ):
        load_settings(config)


def test_missing_or_broken_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("storage: [\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="invalid YAML"):
        load_settings(broken)


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from cityvitals.logs import configure_logging

    configure_logging("INFO", "json")
    logging.getLogger("cityvitals.test").warning("batch committed", extra={"messages": 5000})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["msg"]) == (
        "warning",
        "cityvitals.test",
        "batch committed",
    )
    assert entry["messages"] == 5000
    configure_logging("INFO", "text")
