"""Figures: printed as a table and written to build/bench.json for comparison over time."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BUILD_DIR = Path(__file__).parents[1] / "build"


@dataclass(frozen=True)
class Figure:
    name: str  # dotted, stable: "storage.writer.rows_per_s"
    value: float
    unit: str
    note: str = ""


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"\n{'figure':<{width}}  {'value':>14}  unit")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 12}")
    for figure in figures:
        value = f"{figure.value:,.3f}" if abs(figure.value) < 100 else f"{figure.value:,.0f}"
        note = f"  ({figure.note})" if figure.note else ""
        print(f"{figure.name:<{width}}  {value:>14}  {figure.unit}{note}")


def write_json(figures: list[Figure], build_dir: Path = BUILD_DIR) -> Path:
    """build/bench.json holds this run; build/bench-history.jsonl gains one line per run."""
    build_dir.mkdir(parents=True, exist_ok=True)
    current = {f.name: {"value": f.value, "unit": f.unit} for f in figures}
    path = build_dir / "bench.json"
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    entry = {"at": datetime.now(UTC).isoformat(), "host": platform.node(), "figures": current}
    with (build_dir / "bench-history.jsonl").open("a", encoding="utf-8") as history:
        history.write(json.dumps(entry, sort_keys=True) + "\n")
    return path
