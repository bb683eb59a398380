"""Grafana's own unit formatting, called from Python: format.mjs runs @grafana/data (pinned by
package-lock.json at the version of the Grafana deploy/ runs) under Node, one process per batch.

`make setup` installs the package (npm ci in this folder)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
COMPOSE = HERE.parents[2] / "deploy" / "docker-compose.yml"
_GRAFANA_IMAGE = re.compile(r"image:\s*grafana/grafana(?:-oss)?:(\S+)")


@dataclass(frozen=True, slots=True)
class Shown:
    """One value as Grafana prints it: `shown` is prefix + text + suffix."""

    text: str
    prefix: str
    suffix: str
    shown: str


@dataclass(frozen=True, slots=True)
class Formatted:
    version: str  # @grafana/data's
    values: list[Shown]  # in the order asked
    kinds: dict[str, str]  # unit id -> "builtin", "custom" (suffix:, prefix:, ...) or "unknown"


def deployed_grafana_version() -> str:
    """The Grafana version deploy/docker-compose.yml runs."""
    found = _GRAFANA_IMAGE.search(COMPOSE.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{COMPOSE}: no grafana/grafana-oss image")
    return found[1]


def grafana_format(
    values: Sequence[tuple[str, float, int | None]], units: Iterable[str] = ()
) -> Formatted:
    """Each (unit id, value, decimals) as Grafana's getValueFormat prints it, and what Grafana
    makes of each of `units`."""
    request = {"format": [list(v) for v in values], "known": sorted(set(units))}
    answer = _run("format.mjs", request)
    return Formatted(
        version=answer["version"],
        values=[Shown(**shown) for shown in answer["format"]],
        kinds=answer["known"],
    )


@dataclass(frozen=True, slots=True)
class Displayed:
    """One value as Grafana shows it: its text and its colour (hex or rgba, as drawn)."""

    text: str
    color: str


def grafana_display(
    values: Sequence[tuple[dict[str, Any], Any]], colours: Iterable[str] = ()
) -> tuple[list[Displayed], dict[str, str]]:
    """Each (field config, value) as Grafana's getDisplayProcessor shows it (mappings, then
    threshold steps), and each named colour as the theme draws it."""
    request = {
        "display": [
            {"config": config, "type": "string" if isinstance(v, str) else "number", "value": v}
            for config, v in values
        ],
        "colours": sorted(set(colours)),
    }
    answer = _run("display.mjs", request)
    return [Displayed(**d) for d in answer["display"]], answer["colours"]


def _run(script: str, request: dict[str, Any]) -> dict[str, Any]:
    """One Node process running `script` on the JSON `request` (loading @grafana/data is most of
    its time, so callers batch)."""
    if not (HERE / "node_modules" / "@grafana" / "data").is_dir():
        raise RuntimeError(f"@grafana/data is not installed in {HERE}: run `make setup`")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH (it comes with npm: scripts/system-deps.sh)")
    done = subprocess.run(
        [node, str(HERE / script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
