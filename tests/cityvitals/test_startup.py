"""A restarting service skips preparing the database when nothing it would prepare changed;
services starting together take turns and all come up."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from cityvitals.settings import load_settings
from cityvitals.startup import prepare
from schemas.registry import SENSOR_TYPES_DIR
from tests.harness import ScratchDatabase

INVENTORY = Path(__file__).parents[2] / "schemas" / "inventory" / "example.yaml"


async def test_prepare_is_skipped_only_while_files_and_settings_are_the_same(
    empty_database: ScratchDatabase, tmp_path: Path
) -> None:
    types = tmp_path / "sensor_types"
    shutil.copytree(SENSOR_TYPES_DIR, types)
    settings = load_settings(
        database_url=empty_database.url,
        sensor_types_dir=types,
        inventory_path=INVENTORY,
        storage={"backend": empty_database.backend.value},
    )
    first = await prepare(settings, unless_done=True)
    assert first.migrations_applied  # a new database: everything ran
    assert first.sensors_synced > 0

    again = await prepare(settings, unless_done=True)
    assert again.backend is first.backend
    assert (again.migrations_applied, again.sensors_synced) == ([], 0)  # skipped

    # A changed sensor-type file, or other storage settings: prepared again.
    pressure = types / "water_main_pressure.yaml"
    pressure.write_text(pressure.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = await prepare(settings, unless_done=True)
    assert edited.sensors_synced == first.sensors_synced
    longer = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"raw_retention_days": 30})}
    )
    assert (await prepare(longer, unless_done=True)).sensors_synced == first.sensors_synced
    # `cityvitals db migrate` always prepares.
    assert (await prepare(longer)).sensors_synced == first.sensors_synced


async def test_replicas_starting_together_all_come_up_and_one_prepares(
    empty_database: ScratchDatabase,
) -> None:
    """Two alert replicas (or ingest workers) launched at once. On TimescaleDB, both replacing
    the compression and retention jobs side by side failed one with "tuple concurrently
    deleted"; a failed start leaves that replica down."""
    settings = load_settings(
        database_url=empty_database.url,
        inventory_path=INVENTORY,
        storage={"backend": empty_database.backend.value},
    )
    await prepare(settings)  # migrated, as the harness's databases are; then a new version ships
    longer = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"raw_retention_days": 30})}
    )
    started = await asyncio.gather(*(prepare(longer, unless_done=True) for _ in range(3)))
    assert all(ready.backend is started[0].backend for ready in started)
    # One did the work; the others found it done once they had their turn.
    assert sorted(ready.sensors_synced > 0 for ready in started) == [False, False, True]
