"""`cityvitals ingest`, on its own: the entry point loads this module alone for that command,
so a restarted worker is subscribed again without importing the rest of the CLI."""

from __future__ import annotations

import asyncio

import typer

from cityvitals.cli_common import ConfigOption, settings_or_exit

ingest_app = typer.Typer(add_completion=False)


@ingest_app.command("ingest")
def ingest(config: ConfigOption = None) -> None:
    """Run the MQTT ingest service (SIGTERM or Ctrl-C drains, acknowledges and stops)."""
    from cityvitals.services import run_ingest

    settings = settings_or_exit(config)
    asyncio.run(run_ingest(settings))
