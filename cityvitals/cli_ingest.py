"""`cityvitals ingest`, on its own.

The entry point (`cityvitals.main`) loads this module alone for that command: a worker restarted
by its supervisor is subscribed again without importing the rest of the CLI, nor even typer (the
option parsing here is the standard library's; `cityvitals --help` still lists the command).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cityvitals.logs import configure_logging
from cityvitals.settings import CONFIG_ENV, Settings, SettingsError, load_settings

DESCRIPTION = "Run the MQTT ingest service (SIGTERM or Ctrl-C drains, acknowledges and stops)."


def run_ingest_command(config: Path | None) -> None:
    try:
        settings = load_settings(config)
    except SettingsError as error:
        sys.stderr.write(f"\033[31m{error}\033[0m\n" if sys.stderr.isatty() else f"{error}\n")
        raise SystemExit(1) from error
    configure_logging(settings.log_level, settings.log_format)
    _run(settings)


def _run(settings: Settings) -> None:
    from cityvitals.services import run_ingest

    asyncio.run(run_ingest(settings))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="cityvitals ingest", description=DESCRIPTION)
    parser.add_argument(
        "-c", "--config", type=Path, help=f"Settings YAML file (else ${CONFIG_ENV})."
    )
    arguments = parser.parse_args(argv)
    run_ingest_command(arguments.config)
