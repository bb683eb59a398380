"""deploy/timescaledb/initdb: the read-only login Grafana's data source uses, on a migrated
database (run as the TimescaleDB image runs it: sh, psql, the POSTGRES_* variables); it reads
nothing until `cityvitals db grant-wall-reader` (the compose file's `wall-reader`) grants it
what the walls read (tests/grafana_dashboards/test_wall_reader.py runs every panel as it)."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from cityvitals.embedded import EmbeddedPostgres
from storage.wall_reader import grant_wall_reader
from tests.deploy.manifests import DEPLOY
from tests.harness import ScratchDatabase

SCRIPT = DEPLOY / "timescaledb" / "initdb" / "10-grafana-reader.sh"


async def test_the_grafana_login_reads_what_it_is_granted_and_writes_nothing(
    pg_server: EmbeddedPostgres, prepared: ScratchDatabase
) -> None:
    reader = f"grafana_{uuid.uuid4().hex[:8]}"  # roles are per server: one per test
    url = urlsplit(prepared.url)
    env = {
        **os.environ,
        "PATH": f"{pg_server.bin_dir}:{os.environ['PATH']}",
        "PGHOST": url.hostname or "127.0.0.1",
        "PGPORT": str(url.port),
        "PGPASSWORD": url.password or "",  # the image's entrypoint connects as the superuser
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_DB": url.path.lstrip("/"),
        "GRAFANA_DB_USER": reader,
        "GRAFANA_DB_PASSWORD": "reader-test-password",
    }
    init = await asyncio.create_subprocess_exec(
        "sh", str(SCRIPT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await init.communicate()
    assert init.returncode == 0, output.decode()
    as_reader = url._replace(netloc=f"{reader}:reader-test-password@{url.hostname}:{url.port}")
    admin = await asyncpg.connect(prepared.url)
    conn = await asyncpg.connect(urlunsplit(as_reader))
    try:
        assert await conn.fetchval("SHOW statement_timeout") == "30s"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # not pg_read_all_data
            await conn.fetchval("SELECT count(*) FROM sensors")
        await grant_wall_reader(admin, reader)
        assert await conn.fetchval("SELECT count(*) FROM sensors") > 0
        await conn.fetchval("SELECT count(*) FROM readings_1m")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetchval("SELECT count(*) FROM api_keys")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("DELETE FROM sensors")
    finally:
        await conn.close()
        await admin.execute(f"DROP OWNED BY {reader}; DROP ROLE {reader}")
        await admin.close()
