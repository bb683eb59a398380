"""The walls' database login (`cityvitals db grant-wall-reader`), on both backends: as that
login, every panel of every board runs; api_keys, dead-letter payloads and every relation not in
`storage.wall_reader.WALL_READS` are refused; nothing can be written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from typer.testing import CliRunner

from cityvitals.cli import app
from grafana_dashboards.generate import build_dashboards
from schemas.registry import Registry
from storage.backend import Backend
from storage.wall_reader import SCHEMA, WALL_READS, grant_wall_reader
from tests.grafana_dashboards.city import fill_city
from tests.grafana_dashboards.panel_sql import run_board
from tests.harness import ScratchDatabase

RANGES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "30d": timedelta(days=30)}
PASSWORD = "wall-reader-test"
# Extension metadata TimescaleDB lets every role read (hypertable and job definitions, no
# rows of ours); its chunks and aggregate internals live in _timescaledb_internal and are checked.
METADATA_SCHEMAS = (
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "_timescaledb_catalog",
    "_timescaledb_config",
    "_timescaledb_cache",
    "_timescaledb_functions",
    "_timescaledb_debug",
    "timescaledb_information",
    "timescaledb_experimental",
)
# What TimescaleDB keeps for a listed hypertable or aggregate: its hypertables (materialized,
# compressed) and their chunks, and the aggregate's internal views. SELECT on them follows the
# listed relation, as it holds the same rows.
_TIMESCALE_PARTS = """
WITH RECURSIVE listed(id) AS (
    SELECT h.id FROM _timescaledb_catalog.hypertable h
    WHERE h.schema_name = $1 AND h.table_name = ANY($2::text[])
    UNION SELECT a.mat_hypertable_id FROM _timescaledb_catalog.continuous_agg a
    WHERE a.user_view_schema = $1 AND a.user_view_name = ANY($2::text[])
), parts(id) AS (
    SELECT id FROM listed
    UNION SELECT h.compressed_hypertable_id FROM _timescaledb_catalog.hypertable h
    JOIN parts p ON p.id = h.id WHERE h.compressed_hypertable_id IS NOT NULL
)
SELECT format('%I.%I', h.schema_name, h.table_name) FROM _timescaledb_catalog.hypertable h
WHERE h.id IN (SELECT id FROM parts)
UNION SELECT format('%I.%I', c.schema_name, c.table_name) FROM _timescaledb_catalog.chunk c
WHERE c.hypertable_id IN (SELECT id FROM parts)
UNION SELECT format('%I.%I', v.schema, v.name) FROM _timescaledb_catalog.continuous_agg a,
    LATERAL (VALUES (a.partial_view_schema, a.partial_view_name),
                    (a.direct_view_schema, a.direct_view_name)) AS v(schema, name)
WHERE a.user_view_schema = $1 AND a.user_view_name = ANY($2::text[])
"""

runner = CliRunner()


@pytest.fixture
async def wall_login(prepared: ScratchDatabase) -> AsyncIterator[str]:
    """A login as the first deployments made it (pg_read_all_data), dropped afterwards."""
    role = f"wall_{uuid.uuid4().hex[:8]}"  # roles are per server: one per test
    admin = await asyncpg.connect(prepared.url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        await admin.execute(f"GRANT pg_read_all_data TO {role}")
        yield role
        await admin.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
    finally:
        await admin.close()


def _as(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}:{PASSWORD}@{parts.hostname}:{parts.port}"))


async def _privileges(conn: asyncpg.Connection, role: str) -> list[object]:
    """What the login holds: memberships, settings, table and column privileges (as given to
    it: an ACL spelled out by a REVOKE and the default one grant the same)."""
    return [
        await conn.fetch(
            "SELECT roleid::regrole::text FROM pg_auth_members WHERE member = $1::regrole", role
        ),
        await conn.fetchval("SELECT rolconfig FROM pg_roles WHERE rolname = $1", role),
        await conn.fetch(
            "SELECT c.oid::regclass::text, x.privilege_type FROM pg_class c, "
            "aclexplode(c.relacl) x WHERE x.grantee = $1::regrole ORDER BY 1, 2",
            role,
        ),
        await conn.fetch(
            "SELECT a.attrelid::regclass::text, a.attname, x.privilege_type FROM pg_attribute a, "
            "aclexplode(a.attacl) x WHERE x.grantee = $1::regrole ORDER BY 1, 2, 3",
            role,
        ),
    ]


async def _unlisted(conn: asyncpg.Connection, backend: Backend) -> list[str]:
    """Every table, view and materialized view of the database the list does not cover."""
    relations = {
        r[0]
        for r in await conn.fetch(
            "SELECT c.oid::regclass::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL($1::text[]) "
            # the extension's own objects (job statistics, size views: PUBLIC by its design)
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "AND d.objid = c.oid AND d.deptype = 'e')",
            list(METADATA_SCHEMAS),
        )
    }
    allowed = set(WALL_READS)
    if backend is Backend.TIMESCALEDB:
        parts = await conn.fetch(_TIMESCALE_PARTS, SCHEMA, list(WALL_READS))
        allowed |= {r[0] for r in parts}
    return sorted(relations - allowed)


async def test_the_wall_login_reads_what_the_panels_read_and_nothing_else(
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    registry: Registry,
    now: datetime,
    wall_login: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = Backend(prepared.backend)
    await fill_city(pool, backend, registry, now)
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    granted = await asyncio.to_thread(runner.invoke, app, ["db", "grant-wall-reader", wall_login])
    assert granted.exit_code == 0, granted.output
    assert f"{wall_login}: no longer a member of pg_read_all_data" in granted.output
    async with pool.acquire() as admin:
        unlisted = await _unlisted(admin, backend)
        before = await _privileges(admin, wall_login)
        await grant_wall_reader(admin, wall_login)  # again: nothing changes
        assert await _privileges(admin, wall_login) == before
    assert {"api_keys", "dead_letters", "notifications"} - set(unlisted) == {"dead_letters"}
    if backend is Backend.POSTGRES:  # the rollups' tables, read only through their views
        assert {"rollup_1m", "rollup_1h"} <= set(unlisted)

    reader = await asyncpg.connect(_as(prepared.url, wall_login))
    try:
        # (a) every panel of every board, as the panel-SQL test runs them
        failures, rows = [], 0
        for name, board in build_dashboards(registry).items():
            ranges = RANGES if name.startswith("zh/") else {"1d": RANGES["1d"]}
            for label, span in ranges.items():
                async for result in run_board(
                    reader, name, board, now - span, now, timescaledb=backend is Backend.TIMESCALEDB
                ):
                    failures += [f"{name} {label} {result.panel!r}: {p}" for p in result.problems]
                    rows += len(result.rows)
        assert not failures, "\n".join(failures[:40])
        assert rows > 1000

        # (b) secrets and everything unlisted are refused
        readable: list[str] = []
        for sql in (
            "SELECT * FROM api_keys",
            "SELECT payload FROM dead_letters",
            "SELECT * FROM dead_letters",
            "SELECT detail FROM dead_letters",
            *(f"SELECT * FROM {relation} LIMIT 1" for relation in unlisted),
        ):
            try:
                await reader.fetch(sql)
            except asyncpg.InsufficientPrivilegeError:
                continue
            readable.append(sql)
        assert readable == [], "\n".join(readable)
        assert await reader.fetchval("SELECT count(*) FROM dead_letters") > 0

        # (c) nothing is written, even with the read-only default switched off
        assert await reader.fetchval("SHOW statement_timeout") == "30s"
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await reader.execute("DELETE FROM sensors")
        await reader.execute("SET default_transaction_read_only = off")
        for sql in (
            "DELETE FROM sensors",
            "UPDATE alerts SET value = 0",
            "INSERT INTO subdistricts (id) VALUES (999)",
            "TRUNCATE readings",
            "CREATE TABLE public.wall_scratch (i int)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await reader.execute(sql)
    finally:
        await reader.close()


async def test_grant_refuses_a_missing_login_and_the_owner(
    prepared: ScratchDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    missing = await asyncio.to_thread(runner.invoke, app, ["db", "grant-wall-reader", "nobody_x"])
    assert missing.exit_code == 1
    assert "role 'nobody_x' does not exist: create the login first" in missing.output
    owner = urlsplit(prepared.url).username or "postgres"
    refused = await asyncio.to_thread(runner.invoke, app, ["db", "grant-wall-reader", owner])
    assert refused.exit_code == 1
    assert "give the walls a login of their own" in refused.output
