"""The running engine picks up changed rule files and sensor types without a restart: a broken
file is rejected and the rules in force stay; alerts of unchanged rules keep their state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from alerts.engine.service import Engine, EngineConfig
from schemas.registry import Registry
from schemas.sensor_type import SensorType
from storage.backend import Backend
from storage.catalog import load_catalog
from storage.type_specs import save_api_type
from storage.writer import ReadingWriter
from tests.alerts.ticking import more_ticks
from tests.harness import ScratchDatabase
from tests.waiting import wait_until

RULE = "default:water_main_pressure:pressure:below"
AT_ONCE = f"overrides:\n  - rule: {RULE}\n    hold: 0s\n    keep_firing_for: 10m\n"


@contextlib.asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[Engine]:
    task = asyncio.create_task(engine.run())
    try:
        await asyncio.wait_for(engine.leading.wait(), 30)
        yield engine
    finally:
        engine.stop()
        await asyncio.wait_for(task, 30)


async def _breach(pool: asyncpg.Pool, backend: Backend) -> None:
    async with pool.acquire() as conn:
        catalog = await load_catalog(conn)
    row = (
        datetime.now(UTC),
        catalog.sensors["yp-wp-0004"].id,
        catalog.metric_ids[("water_main_pressure", "pressure")],
        0.18,
    )
    await ReadingWriter(pool, backend).write([row])


async def test_rule_files_and_types_reload_without_restart(
    prepared: ScratchDatabase, pool: asyncpg.Pool, registry: Registry, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "water.yaml").write_text(AT_ONCE)
    config = EngineConfig(
        database_url=prepared.url, rules_dir=rules, tick_s=0.2, reload_interval_s=0.2
    )
    engine = Engine(config, pool, registry)
    async with running(engine):
        await _breach(pool, Backend(prepared.backend))

        async def firing() -> bool:
            phase = await pool.fetchval("SELECT phase FROM alerts WHERE rule_id = $1", RULE)
            return bool(phase == "firing")

        await wait_until(firing, timeout_s=30)
        since = await pool.fetchval("SELECT firing_since FROM alerts WHERE rule_id = $1", RULE)

        # A broken file: rejected with its problems, the rules in force stay.
        (rules / "broken.yaml").write_text("rules:\n  - id: x\n    type: water_mian_pressure\n")

        async def rejected() -> bool:
            failures = engine.metrics.registry.get_sample_value(
                "cityvitals_alerts_reload_failures_total"
            )
            return (failures or 0) >= 1

        await wait_until(rejected, timeout_s=30)
        assert RULE in engine.core.rules
        assert engine.core.rules.rules[RULE].timing.hold.total_seconds() == 0

        # Fixed, with a rule added: it takes effect; the unchanged rule's alert keeps its state.
        (rules / "broken.yaml").write_text(
            "rules:\n  - id: drains_rising\n    type: drain_level\n    metric: water_level\n"
            "    rate_of_change: {above: {yellow: 5}}\n    window: 5m\n"
        )

        async def added() -> bool:
            return "drains_rising" in engine.core.rules

        await wait_until(added, timeout_s=30)
        await more_ticks(engine.metrics, 3)  # under the new rules
        row = await pool.fetchrow("SELECT phase, firing_since FROM alerts WHERE rule_id = $1", RULE)
        assert (row["phase"], row["firing_since"]) == ("firing", since)
        kinds = [r["kind"] for r in await pool.fetch("SELECT kind FROM alert_transitions")]
        assert kinds.count("firing") == 1
        assert "retired" not in kinds

        # A sensor type posted to the gateway brings its default rules along.
        spec = registry.types["drain_level"].model_dump(mode="json")
        spec.update(
            name="tunnel_water_level", display_name={"zh": "隧道积水", "en": "Tunnel water"}
        )
        async with pool.acquire() as conn:
            await save_api_type(conn, SensorType.model_validate(spec))

        async def typed() -> bool:
            return "default:tunnel_water_level:absence" in engine.core.rules

        await wait_until(typed, timeout_s=30)
        assert await pool.fetchval("SELECT phase FROM alerts WHERE rule_id = $1", RULE) == "firing"
