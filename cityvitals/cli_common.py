"""What every `cityvitals` subcommand shares: the --config option, settings, failing clearly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer

from cityvitals.logs import configure_logging
from cityvitals.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings YAML file (else $CITYVITALS_CONFIG)."),
]


def fail(message: str) -> typer.Exit:
    """Print `message` in red on stderr; raise the returned Exit (code 1)."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        settings = load_settings(config)
    except SettingsError as error:
        raise fail(str(error)) from error
    configure_logging(settings.log_level, settings.log_format)
    return settings


def on_database(settings: Settings, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `action` on one connection of its own; database trouble exits with a clear message
    (other errors are the caller's to word)."""

    async def run() -> T:
        conn = await asyncpg.connect(settings.database_url)
        try:
            return await action(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except asyncpg.exceptions.UndefinedTableError as error:
        raise fail(f"database: {error}: run `cityvitals db migrate` first") from error
    except (OSError, asyncpg.exceptions.PostgresError) as error:
        raise fail(f"database: {error}") from error
