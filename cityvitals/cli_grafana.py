"""`cityvitals grafana`: generate the walls' dashboard JSON, upload it to Grafana, and set up
the wall login."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cityvitals.cli_common import ConfigOption, fail, settings_or_exit
from grafana_dashboards.console_links import DEFAULT_CONSOLE_URL, console_base_url
from grafana_dashboards.errors import GrafanaError
from grafana_dashboards.generate import DASHBOARDS_DIR, build_dashboards, differences, export
from grafana_dashboards.i18n import Lang
from grafana_dashboards.push import FOLDER_TITLES, Pusher, connect
from grafana_dashboards.subdistrict_map import checked_tile_url
from grafana_dashboards.wall_account import HOME_UID, WallAccount, WallProvisioner
from schemas.errors import SchemaError
from schemas.geography import Geography, load_geography
from schemas.registry import SENSOR_TYPES_DIR, Registry, load_registry

grafana_app = typer.Typer(
    no_args_is_help=True, help="Grafana walls: generate the dashboards, upload them."
)

GrafanaUrlOption = Annotated[
    str, typer.Option(envvar=["CITYVITALS_GRAFANA_URL", "GRAFANA_URL"], help="Grafana's base URL.")
]
TypesOption = Annotated[Path, typer.Option("--types", help="Folder of sensor-type YAML files.")]
GeographyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--geography",
        help="Geography (GeoJSON) files, one per district; repeat for several (default: the "
        "`geography` setting, i.e. --config or CITYVITALS_GEOGRAPHY, else the shipped one).",
    ),
]

ConsoleUrlOption = Annotated[
    str,
    typer.Option(
        "--console-url",
        help="The ops console's base URL (the gateway) that alert and sensor tables link to; "
        "the committed walls hold the gateway's default address.",
    ),
]

TileUrlOption = Annotated[
    str | None,
    typer.Option(
        "--tile-url",
        help="An XYZ tile server for the overview map's basemap (e.g. 天地图 or an internal "
        "one), http(s) with {z}, {x} and {y}; default: none, the map shows the subdistrict "
        "polygons Grafana serves itself (works offline).",
    ),
]


class Languages(StrEnum):
    ALL = "all"
    ZH = "zh"
    EN = "en"


def _registry(types: Path) -> Registry:
    try:
        return load_registry(types)
    except SchemaError as error:
        raise fail(str(error)) from error


def _console_url(url: str) -> str:
    try:
        return console_base_url(url)
    except GrafanaError as error:
        raise fail(f"--console-url: {error}") from error


def _tile_url(url: str | None) -> str | None:
    try:
        return None if url is None else checked_tile_url(url)
    except GrafanaError as error:
        raise fail(f"--tile-url: {error}") from error


def _geography(files: list[Path] | None, config: Path | None) -> Geography:
    """The places the walls name: the files given, else the settings' `geography`."""
    paths = files or settings_or_exit(config).geography
    try:
        return load_geography(paths)
    except SchemaError as error:
        raise fail(str(error)) from error


@grafana_app.command("export")
def grafana_export(
    output: Annotated[
        Path, typer.Option(help="Where the zh/ and en/ folders go.")
    ] = DASHBOARDS_DIR,
    types: TypesOption = SENSOR_TYPES_DIR,
    geography: GeographyOption = None,
    config: ConfigOption = None,
    check: Annotated[
        bool, typer.Option(help="Fail if the files differ from the generator's output.")
    ] = False,
    console_url: ConsoleUrlOption = DEFAULT_CONSOLE_URL,
    tile_url: TileUrlOption = None,
) -> None:
    """Regenerate the dashboard JSON files (and the map's GeoJSON) from the sensor-type registry
    and the geography."""
    registry = _registry(types)
    places = _geography(geography, config)
    console_url = _console_url(console_url)
    tiles = _tile_url(tile_url)
    if check:
        problems = differences(registry, output, places, console_url, tiles)
        if problems:
            listing = "\n  ".join(problems)
            raise fail(f"dashboards out of date (run `cityvitals grafana export`):\n  {listing}")
        typer.echo(f"dashboards in {output} are up to date")
        return
    written = export(registry, output, places, console_url, tiles)
    typer.echo(f"wrote {len(written)} dashboards to {output}")


@grafana_app.command("push")
def grafana_push(
    url: GrafanaUrlOption = "http://localhost:3000",
    token: Annotated[
        str | None,
        typer.Option(
            envvar=["CITYVITALS_GRAFANA_TOKEN", "GRAFANA_TOKEN"],
            help="A service-account token (preferred).",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option(envvar="CITYVITALS_GRAFANA_USER", help="Basic-auth user.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="CITYVITALS_GRAFANA_PASSWORD", help="Basic-auth password."),
    ] = None,
    folder: Annotated[str, typer.Option(help="Folder of the Chinese dashboards.")] = FOLDER_TITLES[
        Lang.ZH
    ],
    folder_en: Annotated[
        str, typer.Option(help="Folder of the English dashboards.")
    ] = FOLDER_TITLES[Lang.EN],
    lang: Annotated[Languages, typer.Option(help="Which language's dashboards.")] = Languages.ALL,
    types: TypesOption = SENSOR_TYPES_DIR,
    geography: GeographyOption = None,
    config: ConfigOption = None,
    console_url: ConsoleUrlOption = DEFAULT_CONSOLE_URL,
    tile_url: TileUrlOption = None,
) -> None:
    """Upload the dashboards into their folders (created if missing); unchanged ones are left
    alone, so running it again changes nothing."""
    titles = {Lang.ZH: folder, Lang.EN: folder_en}
    if lang is not Languages.ALL:
        titles = {Lang(lang.value): titles[Lang(lang.value)]}
    console_url = _console_url(console_url)
    places = _geography(geography, config)
    boards = build_dashboards(_registry(types), places, console_url, _tile_url(tile_url))
    try:
        report = Pusher(connect(url, token=token, user=user, password=password)).push(
            boards, titles
        )
    except GrafanaError as error:
        raise fail(str(error)) from error
    for uid in report.folders_created:
        typer.echo(f"created folder {uid}")
    for uid in report.folders_renamed:
        typer.echo(f"renamed folder {uid}")
    typer.echo(f"{len(report.saved)} dashboards saved, {len(report.unchanged)} unchanged")


@grafana_app.command("wall-account")
def grafana_wall_account(
    url: GrafanaUrlOption = "http://localhost:3000",
    user: Annotated[
        str,
        typer.Option(
            envvar="CITYVITALS_GRAFANA_USER",
            help="Grafana's server admin (the Admin API takes no service-account token).",
        ),
    ] = "admin",
    password: Annotated[
        str,
        typer.Option(envvar="CITYVITALS_GRAFANA_PASSWORD", help="The server admin's password."),
    ] = "",
    login: Annotated[str, typer.Option(help="The wall's login.")] = "wall",
    wall_password: Annotated[
        str,
        typer.Option(envvar="CITYVITALS_GRAFANA_WALL_PASSWORD", help="The wall's password."),
    ] = "",
    home: Annotated[
        str, typer.Option(help="uid of the wall's (and the organisation's) home dashboard.")
    ] = HOME_UID,
) -> None:
    """Create or update the wall login: role Viewer, home dashboard the overview (also the
    organisation's home), dark theme. Running it again changes nothing."""
    if not password:
        raise fail("wall account: give the server admin's password (CITYVITALS_GRAFANA_PASSWORD)")
    if not wall_password:
        raise fail("wall account: give the wall's password (CITYVITALS_GRAFANA_WALL_PASSWORD)")
    admin = connect(url, token=None, user=user, password=password)
    provisioner = WallProvisioner(
        admin, lambda name, secret: connect(url, token=None, user=name, password=secret)
    )
    try:
        report = provisioner.provision(WallAccount(login, wall_password, home_uid=home))
    except GrafanaError as error:
        raise fail(f"wall account: {error}") from error
    for change in report.changes:
        typer.echo(change)
    typer.echo(
        f"wall login {login} (user {report.user_id}): Viewer, home {home}; "
        f"{len(report.changes)} change(s)"
    )
