"""Fails when a district's name is written into the Python code of the packages.

The geography is configuration (schemas/geography/*.geojson, issue 13): no district name, code
or bounding box belongs in code, comments and docstrings included, so another district (or a
city platform holding several) needs no code change. The default geography file, the examples,
config files, docs and tests may name it; this checks only `*.py` below the packages.

    python scripts/check_place_names.py [ROOT]     # ROOT: the repository (default: here)

Prints `file:line: text` for each hit and exits 1 when there is any. Sensor ids such as
`yp-wp-0001` do not match.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGES = (
    "alerts",
    "cityvitals",
    "gateway",
    "grafana_dashboards",
    "ingest",
    "schemas",
    "simulators",
    "storage",
    "bench",
)
# The shipped default district, in Chinese and pinyin (any case).
FORBIDDEN = re.compile("杨浦|(?i:yangpu)")


def hits(root: Path) -> Iterator[str]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for number, line in enumerate(text.splitlines(), start=1):
                if FORBIDDEN.search(line):
                    yield f"{path.relative_to(root)}:{number}: {line.strip()}"


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    found = list(hits(root))
    for hit in found:
        print(hit)
    if found:
        print(
            f"{len(found)} district name(s) in Python code: take them from the geography "
            "(schemas/geography.py) instead",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
