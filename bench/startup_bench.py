"""How long a restarted ingest worker takes to be back: launch to subscribed.

A supervisor (systemd, Kubernetes) restarts a crashed worker; until it has subscribed again its
share of the stream waits in the broker. Measured as the operator sees it: the `cityvitals`
command started as a process, against a migrated database with the bench inventory, until it
logs that it subscribed; then it is stopped with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5


def _command() -> list[str]:
    installed = Path(sys.executable).with_name("cityvitals")  # the console script, as deployed
    if installed.exists():
        return [str(installed), "ingest"]
    return [sys.executable, "-m", "cityvitals.main", "ingest"]


def launch_to_subscribed_ms(database_url: str, mqtt_url: str, runs: int = RUNS) -> float:
    """The median over `runs` starts, in milliseconds."""
    took = []
    for run in range(runs):
        env = {
            **os.environ,
            "CITYVITALS_DATABASE_URL": database_url,
            "CITYVITALS_MQTT_URL": mqtt_url,
            "CITYVITALS_INGEST__CLIENT_ID": f"bench-startup-{run}",
            "CITYVITALS_INGEST__METRICS_PORT": "0",
            "CITYVITALS_LOG_LEVEL": "INFO",
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            _command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            output.append(line)
            if "subscribed at" in line:
                took.append(1000 * (time.perf_counter() - started))
                break
        else:
            raise RuntimeError("the ingest exited before subscribing:\n" + "".join(output))
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        process.stdout.close()
    return statistics.median(took)
