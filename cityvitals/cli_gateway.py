"""`cityvitals gateway` (the HTTP API on uvicorn) and `cityvitals keys` (its API keys)."""

from __future__ import annotations

import asyncio
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
    config: ConfigOption = None,
) -> None:
    """Create a key and print its secret, once: only a hash of it is stored."""
    from gateway.keys import create_key

    if role not in ROLES:
        raise fail(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    if not name.strip():
        raise fail("NAME: must not be empty")
    settings = settings_or_exit(config)
    key, secret = on_database(settings, lambda conn: create_key(conn, name.strip(), role))
    typer.echo(f"created key {key.id} ({key.role}) for {key.name}")
    typer.echo(f"secret (shown only now): {secret}")


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
    used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
    revoked = f", revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else ""
    created = key.created_at.isoformat(timespec="seconds")
    return f"{key.id}  {key.role:<8}  {key.name}  (created {created}, last used {used}{revoked})"
