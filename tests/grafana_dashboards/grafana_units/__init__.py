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
    if not (HERE / "node_modules" / "@grafana" / "data").is_dir():
        raise RuntimeError(f"@grafana/data is not installed in {HERE}: run `make setup`")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH (it comes with npm: scripts/system-deps.sh)")
    request = {"format": [list(v) for v in values], "known": sorted(set(units))}
    done = subprocess.run(
        [node, str(HERE / "format.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"format.mjs failed ({done.returncode}): {done.stderr}")
    answer = json.loads(done.stdout)
    return Formatted(
        version=answer["version"],
        values=[Shown(**shown) for shown in answer["format"]],
        kinds=answer["known"],
    )
