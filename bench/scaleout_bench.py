"""Scale-out: one versus two ingest workers on a shared subscription draining the same stream.

Each worker is the real ingest service in a process of its own, in the same shared group
(`ingest.shared_group`), with its own client id; this process publishes the stream once every
worker is subscribed. Throughput is publish start to the last commit of any worker; every
reading must be stored exactly once, and the broker must have split the stream between them.
Each run uses a new group and sessions that expire at disconnect, so no earlier run's session
keeps a share of the stream queued.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.ingest_bench import (
    Stack,
    _prepare,
    _publish,
    _sensors,
    _truncate,
    single_messages,
    stack,
)
from bench.report import Figure

MESSAGES = 200_000  # single-reading messages per run
RUNS = 3  # figures are medians of this many runs per worker count
WORKER_COUNTS = (1, 2)
DRAIN_TIMEOUT_S = 600.0


def shared_worker(
    config: dict[str, Any], ready: Any, stop: Any, committed: Any, results: Any
) -> None:
    """An ingest worker (spawned): adds its committed rows to `committed` (shared by all
    workers) until `stop` is set, then reports its own."""
    from cityvitals.configs import ingest_config
    from cityvitals.settings import load_settings
    from cityvitals.startup import prepare
    from ingest.service import Committed, IngestService
    from storage.pool import create_pool

    async def main() -> None:
        settings = load_settings(**config)
        prepared = await prepare(settings)
        pool = await create_pool(settings.database_url, min_size=2, max_size=4)
        state = {"rows": 0, "last": 0.0}

        def on_committed(batch: Committed) -> None:
            state["rows"] += batch.inserted + batch.duplicates
            state["last"] = time.time()
            with committed.get_lock():
                committed.value += batch.inserted + batch.duplicates

        service = IngestService(
            ingest_config(settings), pool, prepared.backend, on_committed=on_committed
        )
        task = asyncio.create_task(service.run())
        await service.ready.wait()
        ready.set()
        await asyncio.to_thread(stop.wait)
        service.stop()
        await task
        await pool.close()
        results.put({"rows": state["rows"], "last_commit_at": state["last"]})

    asyncio.run(main())


def _wait_committed(committed: Any, expected: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while committed.value < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {committed.value} of {expected} readings committed")
        time.sleep(0.02)


def _run(s: Stack, workers: int, group: str, messages: list[tuple[str, bytes]]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    stop, results, committed = ctx.Event(), ctx.Queue(), ctx.Value("q", 0)
    processes, readies = [], []
    for k in range(workers):
        ready = ctx.Event()
        config = {
            "database_url": s.database_url,
            "mqtt_url": s.mqtt_url,
            "ingest": {
                "client_id": f"{group}-{k}",
                "shared_group": group,
                "session_expiry": 1,  # gone a second after this run
                "metrics_port": 0,
            },
        }
        process = ctx.Process(target=shared_worker, args=(config, ready, stop, committed, results))
        process.start()
        processes.append(process)
        readies.append(ready)
    try:
        for ready in readies:
            if not ready.wait(60):
                raise RuntimeError("an ingest worker did not get ready")
        started = asyncio.run(_publish(s.mqtt_url, messages))
        _wait_committed(committed, len(messages))
    finally:
        stop.set()
    shares = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
    last = max(share["last_commit_at"] for share in shares)
    return {
        "rate": len(messages) / (last - started),
        "rows": [share["rows"] for share in shares],
        "lost": len(messages) - asyncio.run(_truncate(s)),
    }


def measure(s: Stack) -> list[Figure]:
    sensors = _sensors()
    asyncio.run(_prepare(s, sensors))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    messages = single_messages(sensors, MESSAGES, start)
    rates: dict[int, list[float]] = {n: [] for n in WORKER_COUNTS}
    smallest_share, lost = 1.0, 0
    for run in range(RUNS):
        for workers in WORKER_COUNTS:  # interleaved, so drift in the machine hits both alike
            result = _run(s, workers, f"scale{workers}r{run}", messages)
            rates[workers].append(result["rate"])
            lost += result["lost"]
            if workers > 1:
                smallest_share = min(smallest_share, min(result["rows"]) / len(messages))
    one, two = (statistics.median(rates[n]) for n in WORKER_COUNTS)
    median = f"single-reading QoS 1 messages, publish->commit; median of {RUNS}"
    return [
        Figure("ingest.workers_1.msgs_per_s", one, "msg/s", f"1 worker; {median}"),
        Figure("ingest.workers_2.msgs_per_s", two, "msg/s", f"2 workers, one group; {median}"),
        Figure("ingest.workers_2.ratio_to_1", two / one, "ratio", "on this machine's cores"),
        Figure(
            "ingest.workers_2.smallest_share", smallest_share, "ratio", "of the stream; 0.5 = even"
        ),
        Figure("ingest.workers.lost", float(lost), "readings", "must be 0"),
    ]


def run() -> list[Figure]:
    with stack() as s:
        return measure(s)
