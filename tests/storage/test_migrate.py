"""Migrations: idempotent, backend recorded once, edits of applied files refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from storage.backend import Backend, BackendPreference
from storage.errors import BackendError, MigrationError
from storage.migrate import MIGRATIONS_DIR, migrate, plan
from tests.harness import POSTGRES_ONLY, TIMESCALEDB_ONLY, ScratchDatabase


async def test_second_run_applies_nothing(
    empty_database: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    preference = BackendPreference(empty_database.backend.value)
    first = await migrate(conn, preference)
    second = await migrate(conn, preference)
    assert first.backend is empty_database.backend
    assert [m.path.name for m in plan(first.backend)] == first.applied
    assert second.applied == []
    versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in versions] == [m.version for m in plan(first.backend)]


async def test_edited_applied_migration_is_refused(
    empty_database: ScratchDatabase, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    preference = BackendPreference(empty_database.backend.value)
    await migrate(conn, preference, folder)
    core = folder / "0001_core.sql"
    core.write_text(core.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationError, match=r"0001_core\.sql: changed after it was applied"):
        await migrate(conn, preference, folder)


async def test_new_migration_file_is_applied_on_next_start(
    empty_database: ScratchDatabase, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    preference = BackendPreference(empty_database.backend.value)
    await migrate(conn, preference, folder)
    (folder / "0099_extra.sql").write_text("CREATE TABLE extra (id int);")
    result = await migrate(conn, preference, folder)
    assert result.applied == ["0099_extra.sql"]
    assert await conn.fetchval("SELECT to_regclass('extra') IS NOT NULL")


async def test_failing_migration_names_the_file_and_leaves_nothing_half_done(
    empty_database: ScratchDatabase, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    (folder / "0050_broken.sql").write_text("CREATE TABLE half (id int); SELECT no_such_fn();")
    with pytest.raises(MigrationError, match=r"0050_broken\.sql: .*no_such_fn"):
        await migrate(conn, BackendPreference(empty_database.backend.value), folder)
    assert not await conn.fetchval("SELECT to_regclass('half') IS NOT NULL")
    shipped = plan(empty_database.backend)[-1].version
    assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == shipped


async def test_recorded_backend_cannot_be_switched(
    empty_database: ScratchDatabase, conn: asyncpg.Connection
) -> None:
    await migrate(conn, BackendPreference(empty_database.backend.value))
    other = "postgres" if empty_database.backend is Backend.TIMESCALEDB else "timescaledb"
    with pytest.raises(BackendError, match="not interchangeable"):
        await migrate(conn, BackendPreference(other))
    # 'auto' keeps whatever the database was created with.
    assert (await migrate(conn, BackendPreference.AUTO)).backend is empty_database.backend


@POSTGRES_ONLY  # a server started without TimescaleDB preloaded
async def test_asking_for_timescaledb_where_it_is_missing_says_why(
    conn: asyncpg.Connection,
) -> None:
    with pytest.raises(BackendError, match=r"storage\.backend is 'timescaledb' but"):
        await migrate(conn, BackendPreference.TIMESCALEDB)


@POSTGRES_ONLY
async def test_postgres_layout_is_partitioned_with_brin(conn: asyncpg.Connection) -> None:
    await migrate(conn, BackendPreference.POSTGRES)
    strategy = await conn.fetchval(
        "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'readings'::regclass"
    )
    assert strategy == "r"  # range
    methods = await conn.fetch(
        "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'readings'::regclass"
    )
    assert sorted(r["amname"] for r in methods) == ["brin", "btree"]


@TIMESCALEDB_ONLY
async def test_timescaledb_layout_is_a_compressed_hypertable_with_caggs(
    conn: asyncpg.Connection,
) -> None:
    await migrate(conn, BackendPreference.TIMESCALEDB)
    hypertable = await conn.fetchrow(
        "SELECT compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = 'readings'"
    )
    assert hypertable is not None
    assert hypertable["compression_enabled"]
    views = await conn.fetch(
        "SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1"
    )
    assert [r["view_name"] for r in views] == ["readings_1h", "readings_1m"]


async def test_domains_migration_keeps_rows_and_replaces_the_check_lists(
    empty_database: ScratchDatabase, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    # A database at the schema before 0011, with a type and an alert of the closed list's domains.
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < 11:
            shutil.copy(path, folder / path.name)
    preference = BackendPreference(empty_database.backend.value)
    await migrate(conn, preference, folder)
    await conn.execute(
        "INSERT INTO sensor_types (name, domain, name_zh, name_en, reporting_interval_s, spec) "
        "VALUES ('old_gauge', 'water', '旧压力计', 'Old gauge', 60, '{}')"
    )
    await conn.execute(
        "INSERT INTO alerts (fingerprint, rule_id, subject_kind, subject_id, domain, phase, grade) "
        "VALUES ('f1', 'r1', 'sensor', 's1', 'power', 'firing', 'red')"
    )
    with pytest.raises(asyncpg.CheckViolationError):  # the closed list, as it was
        await conn.execute("UPDATE sensor_types SET domain = 'greenery'")

    assert "0011_domains.sql" in (await migrate(conn, preference)).applied
    types = await conn.fetch("SELECT name, domain, name_zh FROM sensor_types")
    assert [tuple(r) for r in types] == [("old_gauge", "water", "旧压力计")]
    alerts = await conn.fetch("SELECT fingerprint, domain, phase, grade FROM alerts")
    assert [tuple(r) for r in alerts] == [("f1", "power", "firing", "red")]
    checks = await conn.fetch(
        "SELECT conname FROM pg_constraint WHERE conname IN "
        "('sensor_types_domain_check', 'alerts_domain_check')"
    )
    assert checks == []
    # Now a domain is any row of `domains`, and only those.
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="domains"):
        await conn.execute("UPDATE sensor_types SET domain = 'greenery'")
    await conn.execute(
        "INSERT INTO domains (code, name_zh, name_en, position, colour) "
        "VALUES ('greenery', '绿化', 'Greenery', 5, '#91cc75')"
    )
    await conn.execute("UPDATE sensor_types SET domain = 'greenery'")
    await conn.execute("UPDATE alerts SET domain = 'greenery'")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute("DELETE FROM domains WHERE code = 'greenery'")
