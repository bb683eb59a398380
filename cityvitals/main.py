"""The `cityvitals` entry point.

`cityvitals ingest` imports only what the ingest needs (`cli_ingest`): a worker restarted by its
supervisor subscribes again in a fraction of the time the whole CLI takes to import (the Grafana,
alerts and gateway commands pull in most of the project). Every other command loads the full CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["ingest"]:
        from cityvitals.cli_ingest import main as ingest

        ingest(sys.argv[2:])
        return
    from cityvitals.cli import app

    app()


if __name__ == "__main__":
    main()
