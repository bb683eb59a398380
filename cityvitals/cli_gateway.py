"""`cityvitals gateway` (the HTTP API on uvicorn) and `cityvitals keys` (its API keys)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from cityvitals.cli_common import ConfigOption, fail, settings_or_exit
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

    from cityvitals.startup import prepare_when_available
    from gateway.app import create_app

    await prepare_when_available(settings)  # migrations and the vocabulary, as every service
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_config=None,  # our logging (cityvitals.logs), text or JSON
        lifespan="on",
        timeout_graceful_shutdown=5,  # live streams never end on their own
        server_header=False,
    )
    await uvicorn.Server(config).serve()


def _with_db(settings: Settings, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(settings.database_url)
        try:
            return await action(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except asyncpg.exceptions.UndefinedTableError as error:
        raise fail("no api_keys table: run `cityvitals db migrate` first") from error
    except (OSError, asyncpg.exceptions.PostgresError) as error:
        raise fail(f"database: {error}") from error


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
    key, secret = _with_db(settings, lambda conn: create_key(conn, name.strip(), role))
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
    keys = _with_db(settings, lambda conn: list_keys(conn, include_revoked=all_keys))
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
    key = _with_db(settings, lambda conn: revoke_key(conn, key_id, datetime.now(UTC)))
    if key is None:
        raise fail(f"no key {key_id!r} in use")
    typer.echo(f"revoked key {key.id} ({key.role}) of {key.name}")


def _describe(key: ApiKey) -> str:
    used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
    revoked = f", revoked {key.revoked_at.isoformat(timespec='seconds')}" if key.revoked_at else ""
    created = key.created_at.isoformat(timespec="seconds")
    return f"{key.id}  {key.role:<8}  {key.name}  (created {created}, last used {used}{revoked})"
