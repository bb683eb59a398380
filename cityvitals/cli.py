"""The one `cityvitals` command line."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

from cityvitals.logs import configure_logging
from cityvitals.settings import Settings, SettingsError, load_settings
from schemas.errors import SchemaError
from schemas.inventory import load_inventory
from schemas.json_schema import SCHEMA_PATH, render_json_schema
from schemas.registry import SENSOR_TYPES_DIR, load_registry
from storage.errors import StorageError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
sensors_app = typer.Typer(no_args_is_help=True, help="Sensor types and the inventory.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations and maintenance.")
app.add_typer(sensors_app, name="sensors")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings YAML file (else $CITYVITALS_CONFIG)."),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings(config: Path | None) -> Settings:
    try:
        settings = load_settings(config)
    except SettingsError as error:
        raise _fail(str(error)) from error
    configure_logging(settings.log_level, settings.log_format)
    return settings


@sensors_app.command("validate")
def sensors_validate(
    path: Annotated[
        Path, typer.Argument(help="Folder of sensor-type YAML files.")
    ] = SENSOR_TYPES_DIR,
    inventory: Annotated[
        Path | None, typer.Option(help="Also check this inventory (YAML or CSV) against them.")
    ] = None,
) -> None:
    """Check every sensor-type file in PATH; lists each problem by file and key."""
    try:
        registry = load_registry(path)
        typer.echo(f"{len(registry)} sensor types valid in {path}")
        if inventory is not None:
            sensors = load_inventory(inventory, registry)
            typer.echo(f"{len(sensors)} sensors valid in {inventory}")
    except SchemaError as error:
        raise _fail(f"{len(error.problems)} problem(s):\n{error}") from error


@sensors_app.command("list")
def sensors_list(
    path: Annotated[
        Path, typer.Argument(help="Folder of sensor-type YAML files.")
    ] = SENSOR_TYPES_DIR,
) -> None:
    """Show the sensor types: domain, names, reporting interval and metrics."""
    try:
        registry = load_registry(path)
    except SchemaError as error:
        raise _fail(str(error)) from error
    for sensor_type in sorted(registry, key=lambda t: (t.domain, t.name)):
        metrics = ", ".join(f"{n} [{m.unit}]" for n, m in sensor_type.metrics.items())
        typer.echo(
            f"{sensor_type.domain:<9} {sensor_type.name:<26} {sensor_type.display_name.zh} / "
            f"{sensor_type.display_name.en}, every {sensor_type.reporting_interval:g}s: {metrics}"
        )


@sensors_app.command("schema")
def sensors_schema(
    output: Annotated[Path, typer.Option(help="Where to write it.")] = SCHEMA_PATH,
    check: Annotated[
        bool, typer.Option(help="Fail if the file differs instead of writing.")
    ] = False,
) -> None:
    """Write the JSON Schema editors use to autocomplete sensor-type files."""
    rendered = render_json_schema()
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != rendered:
            raise _fail(f"{output} is out of date: run `cityvitals sensors schema`")
        typer.echo(f"{output} is up to date")
        return
    output.write_text(rendered, encoding="utf-8")
    typer.echo(f"wrote {output}")


@db_app.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply migrations and sync the sensor types and inventory into the database."""
    from cityvitals.startup import prepare

    settings = _settings(config)
    try:
        prepared = asyncio.run(prepare(settings))
    except (StorageError, SchemaError) as error:
        raise _fail(f"migration failed: {error}") from error
    applied = ", ".join(prepared.migrations_applied) or "none (up to date)"
    typer.echo(
        f"backend {prepared.backend.value}; migrations applied: {applied}; "
        f"inventory sensors synced: {prepared.sensors_synced}"
    )


@db_app.command("maintain")
def db_maintain(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
) -> None:
    """Run storage maintenance: partitions ahead, rollup refresh, retention."""
    from cityvitals.startup import run_maintenance

    settings = _settings(config)
    asyncio.run(run_maintenance(settings, once=once))


@app.command("ingest")
def ingest(config: ConfigOption = None) -> None:
    """Run the MQTT ingest service (SIGTERM or Ctrl-C drains, acknowledges and stops)."""
    from cityvitals.services import run_ingest

    settings = _settings(config)
    asyncio.run(run_ingest(settings))


@app.command("settings")
def show_settings(config: ConfigOption = None) -> None:
    """Validate the settings and print them (passwords masked)."""
    from storage.pool import redact_dsn

    settings = _settings(config)
    for key, value in settings.model_dump(mode="json").items():
        shown = redact_dsn(value) if key == "database_url" else value
        typer.echo(f"{key}: {shown}")


@app.command("demo")
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its database.")] = Path(
        ".cityvitals/demo"
    ),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Run the whole platform on embedded defaults: PostgreSQL, Mosquitto, storage."""
    from cityvitals.demo import run_demo

    data_dir = data_dir.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(data_dir, duration))


if __name__ == "__main__":
    app()
