"""The files `cityvitals demo` writes in its data directory for people and other programs.

- ``cityvitals.yaml``: the running demo's settings, so every `cityvitals` command in another
  shell reaches it after one ``export CITYVITALS_CONFIG=...`` (the banner prints that line). It
  holds the database's and the broker's passwords, so only the demo's owner may read it, like
  the password files next to it.
- ``receivers.yaml``: every alert goes to the demo duty officer (`demo_receiver`).
- ``backfill.json``: whether the history is still being filled (`BackfillState`); the demo's
  gateway repeats its state in `/healthz` (`history`), for the console's wall.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from cityvitals.settings import CONFIG_ENV

SETTINGS_FILE = "cityvitals.yaml"
RECEIVERS_FILE = "receivers.yaml"
BACKFILL_FILE = "backfill.json"


def write_settings_file(data_dir: Path, values: dict[str, Any]) -> Path:
    """`values` (settings keys, as in cityvitals.example.yaml) as the demo's settings file."""
    path = data_dir / SETTINGS_FILE
    header = (
        "# Written by `cityvitals demo` at each start: the settings of the demo running on\n"
        f"# {data_dir}. In another shell:\n"
        f"#   export {CONFIG_ENV}={path}\n"
        "# then every `cityvitals` command (alerts list, keys list, db migrate...) works on it.\n"
        "# mqtt_url uses the simulator's account (it may publish any sensor's readings).\n"
        "# Holds passwords: readable by the demo's owner only.\n"
    )
    body = yaml.safe_dump(values, allow_unicode=True, sort_keys=False)
    _write_private(path, header + body)
    return path


def write_receivers_file(data_dir: Path, url: str, secret_env: str) -> Path:
    path = data_dir / RECEIVERS_FILE
    path.write_text(
        "# Written by `cityvitals demo`: every alert goes to the demo duty officer.\n"
        f"receivers: [{{name: demo-duty, kind: webhook, url: '{url}', "
        f"secret_env: {secret_env}}}]\n"
        "default_receiver: demo-duty\n"
        "allow_local_urls: true  # the demo duty officer listens on this host\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class BackfillState:
    """``backfill.json``: ``filling`` while the simulated city catches up from ``since`` to the
    present (the wall's figures are history then, not live), ``done`` once it runs in real time.
    Times are ISO 8601 with their offset."""

    state: Literal["filling", "done"]
    since: str
    started_at: str
    done_at: str | None = None

    @classmethod
    def filling(cls, since: datetime, now: datetime) -> BackfillState:
        return cls("filling", since.isoformat(), now.isoformat())

    def done(self, now: datetime) -> BackfillState:
        return BackfillState("done", self.since, self.started_at, now.isoformat())


def write_backfill_state(data_dir: Path, state: BackfillState) -> Path:
    """Replaced whole (a rename), so a reader never sees half a file."""
    path = data_dir / BACKFILL_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(state)) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def read_backfill_state(data_dir: Path) -> BackfillState | None:
    """What the last `write_backfill_state` wrote; None before the demo's first start."""
    path = data_dir / BACKFILL_FILE
    if not path.is_file():
        return None
    return BackfillState(**json.loads(path.read_text(encoding="utf-8")))


def _write_private(path: Path, text: str) -> None:
    # Created 0600 (never readable by others, not even for a moment); an older file is narrowed.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
