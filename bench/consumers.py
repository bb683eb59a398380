"""Consumer processes for the ingest benchmark (spawned: module-level functions, picklable args)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import Any


def bare_paho(config: dict[str, Any], ready: Any, results: Any) -> None:
    """The machine's reference ceiling: a paho subscriber that only counts (auto PUBACK)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    host, port = config["url"].removeprefix("mqtt://").split(":")
    state = {"n": 0, "last": 0.0}

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        state["n"] += 1
        if state["n"] >= config["expect"]:
            state["last"] = time.time()
            client.disconnect()

    def on_subscribe(*_: Any) -> None:
        ready.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-bare-paho", protocol=mqtt.MQTTv5
    )
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 20000
    client.on_connect = lambda c, *_: c.subscribe("city/v1/+/+/+/telemetry", qos=1)
    client.connect(host, int(port), clean_start=True, properties=props)
    client.loop_forever()
    results.put({"last_at": state["last"], "count": state["n"]})


def bare_own_client(config: dict[str, Any], ready: Any, results: Any) -> None:
    """Our asyncio MQTT client counting and acknowledging every socket read's messages."""
    from ingest.transport.client import MqttClient
    from ingest.transport.codec import Publish

    async def main() -> None:
        done = asyncio.Event()
        state = {"n": 0, "last": 0.0}
        holder: list[MqttClient] = []
        pending: list[int] = []

        def on_publish(messages: list[Publish]) -> None:
            state["n"] += len(messages)
            pending.extend(m.packet_id for m in messages)
            if holder:
                holder[0].ack(pending[:])
                pending.clear()
            if state["n"] >= config["expect"]:
                state["last"] = time.time()
                done.set()

        client = await MqttClient.connect(
            config["url"], "bench-bare-own", on_publish=on_publish, clean_start=True
        )
        holder.append(client)
        await client.subscribe(["city/v1/+/+/+/telemetry"])
        ready.set()
        await done.wait()
        await client.disconnect()
        results.put({"last_at": state["last"], "count": state["n"]})

    asyncio.run(main())


def ingest(config: dict[str, Any], ready: Any, results: Any) -> None:
    """The real ingest service; stops once `expect` readings (or rows offered) are committed."""
    from cityvitals.configs import ingest_config
    from cityvitals.settings import load_settings
    from cityvitals.startup import prepare
    from ingest.service import Committed, IngestService
    from storage.pool import create_pool

    async def main() -> None:
        settings = load_settings(**config["settings"])
        prepared = await prepare(settings)
        pool = await create_pool(settings.database_url, min_size=2, max_size=4)
        latencies: list[float] = []
        state = {"rows": 0, "last": 0.0}
        service: IngestService

        def on_committed(batch: Committed) -> None:
            now = time.time()
            state["rows"] += batch.inserted + batch.duplicates
            state["last"] = now
            if config.get("latency", True):
                latencies.extend(now - row[0].timestamp() for row in batch.rows)
            if state["rows"] >= config["expect"]:
                service.stop()

        service = IngestService(
            ingest_config(settings), pool, prepared.backend, on_committed=on_committed
        )
        task = asyncio.create_task(service.run())
        await service.ready.wait()
        ready.set()
        await task
        await pool.close()
        ordered = sorted(latencies)
        results.put(
            {
                "last_commit_at": state["last"],
                "rows": state["rows"],
                "p50_ms": 1000 * statistics.median(ordered) if ordered else float("nan"),
                "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))]
                if ordered
                else float("nan"),
                "at": datetime.now(UTC).isoformat(),
            }
        )

    asyncio.run(main())
