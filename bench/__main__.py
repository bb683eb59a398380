"""`python -m bench`: run every benchmark group, print the table, write build/bench.json."""

from __future__ import annotations

import sys

from bench import (
    alerts_bench,
    console_bench,
    decode_bench,
    gateway_bench,
    ingest_bench,
    scaleout_bench,
    simulators_bench,
    storage_bench,
)
from bench.report import Figure, print_table, write_json

GROUPS = {
    "storage": storage_bench.run,
    "decode": decode_bench.run,
    "ingest": ingest_bench.run,
    "simulators": simulators_bench.run,
    "gateway": gateway_bench.run,
    "alerts": alerts_bench.run,
    "scaleout": scaleout_bench.run,
    "console": console_bench.run,
}


def main(argv: list[str]) -> int:
    selected = argv or list(GROUPS)
    unknown = [name for name in selected if name not in GROUPS]
    if unknown:
        print(f"unknown benchmark group(s): {', '.join(unknown)}; known: {', '.join(GROUPS)}")
        return 2
    figures: list[Figure] = []
    for name in selected:
        print(f"running {name} benchmarks ...", flush=True)
        figures.extend(GROUPS[name]())
    print_table(figures)
    print(f"\nwritten to {write_json(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
