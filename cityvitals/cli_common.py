"""What every `cityvitals` subcommand shares: the --config option, settings, failing clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityvitals.logs import configure_logging
from cityvitals.settings import Settings, SettingsError, load_settings

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
