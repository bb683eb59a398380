"""The one `cityvitals` command line."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

from cityvitals.cli_alerts import register as register_alerts
from cityvitals.cli_common import ConfigOption, fail, on_database, settings_or_exit
from cityvitals.cli_gateway import register as register_gateway
from cityvitals.cli_grafana import grafana_app
from cityvitals.cli_ingest import DESCRIPTION as INGEST_HELP
from cityvitals.cli_ingest import run_ingest_command
from schemas.errors import SchemaError
from schemas.geography import DEFAULT_GEOGRAPHY, load_geography
from schemas.inventory import load_inventory
from schemas.json_schema import SCHEMA_PATH, render_json_schema
from schemas.registry import SENSOR_TYPES_DIR, load_registry
from simulators.fleet import hotspot_warnings
from storage.errors import StorageError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
sensors_app = typer.Typer(no_args_is_help=True, help="Sensor types and the inventory.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations and maintenance.")
app.add_typer(sensors_app, name="sensors")
app.add_typer(db_app, name="db")
register_gateway(app)  # `cityvitals gateway` and `cityvitals keys`
register_alerts(app)  # `cityvitals alerts` and the ops actions
app.add_typer(grafana_app, name="grafana")


@app.command("ingest", help=INGEST_HELP)
def ingest(config: ConfigOption = None) -> None:
    # Listed here for --help; `cityvitals ingest` itself starts through cityvitals.main.
    run_ingest_command(config)


@sensors_app.command("validate")
def sensors_validate(
    path: Annotated[
        Path, typer.Argument(help="Folder of sensor-type YAML files.")
    ] = SENSOR_TYPES_DIR,
    inventory: Annotated[
        Path | None, typer.Option(help="Also check this inventory (YAML or CSV) against them.")
    ] = None,
    geography: Annotated[
        list[Path] | None,
        typer.Option(help="Geography (GeoJSON) files, one per district; repeat for several."),
    ] = None,
) -> None:
    """Check every sensor-type file in PATH (and the geography, and an inventory placed in it);
    lists each problem by file and key."""
    try:
        registry = load_registry(path)
        typer.echo(f"{len(registry)} sensor types valid in {path}")
        typer.echo(f"domains, in wall order: {', '.join(registry.domains)}")
        places = load_geography(geography or [DEFAULT_GEOGRAPHY])
        districts = ", ".join(
            f"{d.zh} {d.en} ({len(d.subdistricts)})" for d in places.districts.values()
        )
        typer.echo(f"{len(places)} subdistricts valid in {districts}")
        for warning in hotspot_warnings(registry, places):
            typer.echo(f"warning: {warning}", err=True)
        if inventory is not None:
            sensors = load_inventory(inventory, registry, places)
            for warning in sensors.warnings:
                typer.echo(f"warning: {warning}", err=True)
            typer.echo(f"{len(sensors)} sensors valid in {inventory}")
    except SchemaError as error:
        raise fail(f"{len(error.problems)} problem(s):\n{error}") from error


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
        raise fail(str(error)) from error
    order = {code: spec.position for code, spec in registry.domains.items()}
    for sensor_type in sorted(registry, key=lambda t: (order[t.domain], t.name)):
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
            raise fail(f"{output} is out of date: run `cityvitals sensors schema`")
        typer.echo(f"{output} is up to date")
        return
    output.write_text(rendered, encoding="utf-8")
    typer.echo(f"wrote {output}")


@db_app.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply migrations and sync the sensor types and inventory into the database."""
    from cityvitals.startup import prepare

    settings = settings_or_exit(config)
    try:
        prepared = asyncio.run(prepare(settings))
    except (StorageError, SchemaError) as error:
        raise fail(f"migration failed: {error}") from error
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

    settings = settings_or_exit(config)
    asyncio.run(run_maintenance(settings, once=once))


@db_app.command("grant-wall-reader")
def db_grant_wall_reader(
    role: Annotated[str, typer.Argument(help="The login Grafana's data source uses.")],
    config: ConfigOption = None,
) -> None:
    """Give ROLE SELECT on exactly what the Grafana walls read and take away everything else
    (pg_read_all_data included). Run after every `db migrate`; idempotent."""
    from storage.wall_reader import WallReaderError, grant_wall_reader

    settings = settings_or_exit(config)
    try:
        report = on_database(settings, lambda conn: grant_wall_reader(conn, role))
    except WallReaderError as error:
        raise fail(f"grant-wall-reader: {error}") from error
    if report.memberships_revoked:
        typer.echo(f"{role}: no longer a member of {', '.join(report.memberships_revoked)}")
    typer.echo(
        f"{role}: SELECT on {len(report.relations_granted)} relations "
        f"({', '.join(report.relations_granted)}), read-only; nothing else"
    )


@app.command("simulate")
def simulate(
    config: ConfigOption = None,
    sensors: Annotated[
        int, typer.Option(help="Fleet size (types spread over the 12 subdistricts).")
    ] = 2_000,
    seed: Annotated[int, typer.Option(help="Same seed, same city, same traffic.")] = 1,
    speed: Annotated[
        str, typer.Option(help="1 = real time, 60 = an hour a minute, max = as fast as possible.")
    ] = "1",
    backfill: Annotated[
        str | None,
        typer.Option(help="Start this far in the past (e.g. 30d) and catch up at max speed."),
    ] = None,
    duration: Annotated[
        str | None, typer.Option(help="Simulated time to run (default: forever).")
    ] = None,
    scenario: Annotated[list[str] | None, typer.Option(help="Incident(s) to play in turn.")] = None,
    every: Annotated[str, typer.Option(help="Time between incidents.")] = "5m",
    faults: Annotated[str, typer.Option(help="none or realistic.")] = "none",
    register: Annotated[bool, typer.Option(help="Add the fleet to the inventory first.")] = True,
    connections: Annotated[
        int,
        typer.Option(
            help="MQTT connections (gateways) to share. A broker that makes client ids account "
            "names (deploy/mosquitto) takes one per account: use 1 there."
        ),
    ] = 4,
) -> None:
    """Drive a simulated fleet over MQTT: daily cycles, faults and incident scenarios."""
    import threading
    from datetime import UTC, datetime, timedelta

    from cityvitals.simulate import CityPlan, build_city, publish_city, register_fleet
    from schemas.durations import parse_duration
    from simulators.faults import FaultRates

    settings = settings_or_exit(config)
    try:
        registry = load_registry(settings.sensor_types_dir)
        geography = load_geography(settings.geography)
        plan = CityPlan(
            sensors=sensors,
            seed=seed,
            faults=FaultRates.realistic() if faults == "realistic" else FaultRates(),
            scenarios=tuple(scenario or ()),
            scenario_every=timedelta(seconds=parse_duration(every)),
        )
        now = datetime.now(UTC)
        start = now - timedelta(seconds=parse_duration(backfill)) if backfill else now
        end = start + timedelta(seconds=parse_duration(duration)) if duration else None
        simulation = build_city(registry, geography, plan, start)
    except SchemaError as error:
        raise fail(f"{len(error.problems)} problem(s):\n{error}") from error
    except ValueError as error:
        raise fail(str(error)) from error
    if register:
        count = asyncio.run(register_fleet(settings.database_url, simulation.fleet))
        typer.echo(f"registered {count} simulated sensors")
    stop = threading.Event()
    rate = None if speed == "max" or backfill else float(speed)
    try:
        stats = publish_city(
            settings,
            simulation,
            start=start,
            end=end,
            speed=rate,
            stop=stop,
            connections=connections,
        )
    except KeyboardInterrupt:
        stop.set()
        raise typer.Exit(130) from None
    typer.echo(
        f"sent {stats.messages:,} messages in {stats.finished_at - stats.started_at:.1f}s "
        f"({stats.rate:,.0f}/s)"
    )


@app.command("settings")
def show_settings(config: ConfigOption = None) -> None:
    """Validate the settings and print them (passwords masked)."""
    from storage.pool import redact_dsn

    settings = settings_or_exit(config)
    for key, value in settings.model_dump(mode="json").items():
        shown = redact_dsn(value) if key in ("database_url", "mqtt_url") else value
        typer.echo(f"{key}: {shown}")


@app.command("demo")
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its database.")] = Path(
        ".cityvitals/demo"
    ),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    sensors: Annotated[int, typer.Option(help="Size of the simulated city.")] = 2_000,
) -> None:
    """Run the whole platform on embedded defaults: PostgreSQL, Mosquitto, storage."""
    from cityvitals.demo import run_demo

    data_dir = data_dir.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(data_dir, duration, sensors))


if __name__ == "__main__":
    app()
