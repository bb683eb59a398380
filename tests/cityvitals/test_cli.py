"""The `cityvitals` command: validation exit codes and messages, schema check, migrate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityvitals.cli import app
from cityvitals.embedded import EmbeddedPostgres
from schemas.json_schema import render_json_schema
from schemas.registry import SENSOR_TYPES_DIR

runner = CliRunner()
INVENTORY = Path(__file__).parents[2] / "schemas" / "inventory" / "example.yaml"


def test_validate_shipped_folder_and_inventory() -> None:
    result = runner.invoke(
        app, ["sensors", "validate", str(SENSOR_TYPES_DIR), "--inventory", str(INVENTORY)]
    )
    assert result.exit_code == 0, result.output
    assert "17 sensor types valid" in result.output
    assert "54 sensors valid" in result.output


def test_validate_reports_problems_and_fails(tmp_path: Path) -> None:
    folder = tmp_path / "types"
    shutil.copytree(SENSOR_TYPES_DIR, folder)
    path = folder / "water_quality.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("unit: NTU", "unit: ntu"))
    result = runner.invoke(app, ["sensors", "validate", str(folder)])
    assert result.exit_code == 1
    assert (
        "types/water_quality.yaml: metrics.turbidity.unit: unknown unit 'ntu'; did you mean 'NTU'?"
        in result.output
    )


def test_schema_check_detects_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["sensors", "schema", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert runner.invoke(app, ["sensors", "schema", "--output", str(stale)]).exit_code == 0
    assert stale.read_text(encoding="utf-8") == render_json_schema()


def test_bad_setting_fails_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", "sqlite:///x.db")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 1
    assert "CITYVITALS_DATABASE_URL" in result.output


def test_migrate_twice_against_a_real_server(
    pg_server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_server.create_database("cli_migrate")
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", pg_server.url_for("cli_migrate"))
    monkeypatch.setenv("CITYVITALS_INVENTORY_PATH", str(INVENTORY))
    first = runner.invoke(app, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    assert "backend postgres; migrations applied: 0001_core.sql" in first.output
    assert "inventory sensors synced: 54" in first.output
    second = runner.invoke(app, ["db", "migrate"])
    assert "migrations applied: none (up to date)" in second.output
    maintain = runner.invoke(app, ["db", "maintain", "--once"])
    assert maintain.exit_code == 0, maintain.output
    pg_server.drop_database("cli_migrate")


def test_migrate_reports_an_unreachable_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from cityvitals.embedded import free_port

    monkeypatch.setenv("CITYVITALS_DATABASE_URL", f"postgresql://u@127.0.0.1:{free_port()}/x")
    result = runner.invoke(app, ["db", "migrate"])
    assert result.exit_code == 1
    assert "database unavailable" in result.output


def test_simulate_registers_the_fleet_and_sends_its_traffic(
    pg_server: EmbeddedPostgres, private_broker: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityvitals.embedded import EmbeddedMosquitto

    mqtt_broker = private_broker
    assert isinstance(mqtt_broker, EmbeddedMosquitto)
    pg_server.create_database("cli_simulate")
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", pg_server.url_for("cli_simulate"))
    monkeypatch.setenv("CITYVITALS_MQTT_URL", mqtt_broker.url)
    assert runner.invoke(app, ["db", "migrate"]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "simulate",
            "--sensors",
            "100",
            "--backfill",
            "30m",
            "--duration",
            "30m",
            "--scenario",
            "flash_flood",
            "--every",
            "10m",
            "--faults",
            "realistic",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "registered 100 simulated sensors" in result.output
    sent = int(result.output.split("sent ")[1].split(" messages")[0].replace(",", ""))
    assert sent > 100
    unknown = runner.invoke(app, ["simulate", "--sensors", "10", "--scenario", "meteor_strike"])
    assert unknown.exit_code == 1
    assert "unknown scenario(s) ['meteor_strike']" in unknown.output
    pg_server.drop_database("cli_simulate")
