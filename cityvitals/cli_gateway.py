"""`cityvitals gateway` (the HTTP API on uvicorn) and `cityvitals keys` (its API keys)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Annotated, TypeVar

import typer

from cityvitals.cli_common import ConfigOption, fail, on_database, settings_or_exit
from cityvitals.settings import Settings
from storage.api_keys import ApiKey

keys_app = typer.Typer(no_args_is_help=True, help="API keys of the HTTP gateway.")
ROLES = ("viewer", "operator", "admin", "ingest")
T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)
    app.add_typer(keys_app, name="keys")


def gateway(config: ConfigOption = None) -> None:
    """Serve the HTTP API: registry, readings, alerts, HTTP ingest, live stream (SIGTERM or
    Ctrl-C stops it after the requests in flight)."""
    settings = settings_or_exit(config)
    asyncio.run(run_gateway(settings))


async def run_gateway(settings: Settings) -> None:
    import uvicorn

    from cityvitals.services import gateway_server
    from cityvitals.startup import prepare_when_available

    await prepare_when_available(settings)  # migrations and the vocabulary, as every service
    await uvicorn.Server(gateway_server(settings)).serve()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what holds it (recorded as the actor).")],
    role: Annotated[str, typer.Option(help="viewer, operator, admin or ingest.")] = "viewer",
    sensors: Annotated[
        str | None, typer.Option(help="Ingest: the sensor ids it may post for, comma-separated.")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Ingest: sensors whose ids start with this.")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Ingest: sensors of this domain.")] = None,
    subdistrict: Annotated[
        str | None, typer.Option(help="Ingest: sensors in this subdistrict (its code).")
    ] = None,
    unbound: Annotated[
        bool, typer.Option(help="Ingest: any sensor (an IoT platform's key).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Create a key and print its secret, once: only a hash of it is stored. An ingest key is
    bound to sensors (--sensors or --prefix, --domain, --subdistrict: each given must hold) or
    said to be --unbound."""
    from gateway.keys import create_key, name_problem
    from gateway.scopes import ScopeProblem, describe, key_scope
    from schemas.errors import SchemaError
    from schemas.geography import load_geography

    if role not in ROLES:
        raise fail(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    name = name.strip()
    problem = name_problem(name)
    if problem is not None:
        raise fail(f"NAME: {problem}")
    ids = None if sensors is None else [s.strip() for s in sensors.split(",") if s.strip()]
    settings = settings_or_exit(config)
    try:
        scope = key_scope(
            role,
            sensors=ids,
            prefix=prefix,
            domain=domain,
            subdistrict=subdistrict,
            unbound=unbound,
            domains=None if domain is None else _declared_domains(settings),
            geography=load_geography(settings.geography),
        )
    except ScopeProblem as error:
        raise fail(f"{_OPTIONS.get(error.part, '--' + error.part)}: {error.what}") from None
    except SchemaError as error:
        raise fail(f"geography: {error}") from None
    key, secret = on_database(settings, lambda conn: create_key(conn, name, role, scope))
    typer.echo(f"created key {key.id} ({key.role}) for {key.name}")
    if (posts_for := describe(key)) is not None:
        typer.echo(f"posts readings for {posts_for}")
    typer.echo(f"secret (shown only now): {secret}")


def _declared_domains(settings: Settings) -> Collection[str]:
    """The domains of the registry folder, the ones prepare stores (schemas/domains.py)."""
    from schemas.domains import load_domains
    from schemas.errors import RegistryError

    try:
        return load_domains(settings.sensor_types_dir)
    except RegistryError as error:
        raise fail(f"{len(error.problems)} problem(s):\n{error}") from error


_OPTIONS = {"scope": "--sensors, --prefix, --domain, --subdistrict or --unbound"}


@keys_app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Revoked keys too.")] = False,
    config: ConfigOption = None,
) -> None:
    """List keys: id, role, holder, created, last used (never the secrets)."""
    from storage.api_keys import list_keys

    settings = settings_or_exit(config)
    keys = on_database(settings, lambda conn: list_keys(conn, include_revoked=all_keys))
    for key in keys:
        typer.echo(_describe(key))
    if not keys:
        typer.echo("no keys")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after cvk_).")],
    config: ConfigOption = None,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from datetime import UTC, datetime

    from storage.api_keys import revoke_key

    settings = settings_or_exit(config)
    key = on_database(settings, lambda conn: revoke_key(conn, key_id, datetime.now(UTC)))
    if key is None:
        raise fail(f"no key {key_id!r} in use")
    typer.echo(f"revoked key {key.id} ({key.role}) of {key.name}")


def _describe(key: ApiKey) -> str:
    from gateway.keys import printable
    from gateway.scopes import describe

    used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
    revoked = f", revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else ""
    created = key.created_at.isoformat(timespec="seconds")
    line = f"{key.id}  {key.role:<8}  {printable(key.name)}  (created {created}, last used {used}"
    posts_for = describe(key)
    return f"{line}{revoked})" + (f"  posts for {posts_for}" if posts_for else "")
