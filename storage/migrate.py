"""Versioned migrations, applied on start, idempotent, safe when several services start at once.

Files are ``NNNN_name.sql`` (both backends) or ``NNNN_name.postgres.sql`` plus
``NNNN_name.timescaledb.sql`` (one per backend). Each applied version is recorded with the
checksum of the file that was run; a later edit of an applied file is refused, because the database
would silently differ from what the file says.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from storage.backend import Backend, BackendPreference, choose_backend
from storage.errors import MigrationError, translate

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(postgres|timescaledb))?\.sql$")
# Arbitrary constant: one migrator at a time per database.
_LOCK_KEY = 0x63_69_74_79_76_31

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    file       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS cityvitals_meta (key text PRIMARY KEY, value text NOT NULL);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationResult:
    backend: Backend
    applied: list[str]


def plan(backend: Backend, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations for `backend`, in version order; raises MigrationError on a bad folder."""
    by_version: dict[int, dict[str | None, Path]] = {}
    names: dict[int, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: name must be NNNN_name[.postgres|.timescaledb].sql")
        version = int(match.group(1))
        if names.setdefault(version, match.group(2)) != match.group(2):
            raise MigrationError(f"{path.name}: version {version} is used by two names")
        by_version.setdefault(version, {})[match.group(3)] = path
    migrations = []
    for version in sorted(by_version):
        variants = by_version[version]
        if None in variants and len(variants) > 1:
            raise MigrationError(f"version {version}: has a common file and a backend variant")
        if None not in variants and set(variants) != {"postgres", "timescaledb"}:
            raise MigrationError(f"version {version}: needs both .postgres and .timescaledb")
        path = variants.get(None) or variants[backend.value]
        migrations.append(Migration(version, names[version], path))
    return migrations


async def migrate(
    conn: asyncpg.Connection,
    preference: BackendPreference = BackendPreference.AUTO,
    directory: Path = MIGRATIONS_DIR,
) -> MigrationResult:
    """Bring the schema up to date on `conn` (a dedicated connection, not inside a transaction)."""
    async with translate("migrating the database"):
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            return await _migrate_locked(conn, preference, directory)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _migrate_locked(
    conn: asyncpg.Connection, preference: BackendPreference, directory: Path
) -> MigrationResult:
    await conn.execute(_BOOTSTRAP)
    backend = await choose_backend(conn, preference)
    await conn.execute(
        "INSERT INTO cityvitals_meta (key, value) VALUES ('backend', $1) ON CONFLICT DO NOTHING",
        backend.value,
    )
    applied_rows = await conn.fetch("SELECT version, file, checksum FROM schema_migrations")
    applied = {row["version"]: row for row in applied_rows}
    done: list[str] = []
    for migration in plan(backend, directory):
        row = applied.get(migration.version)
        if row is not None:
            if row["checksum"] != migration.checksum:
                raise MigrationError(
                    f"{migration.path.name}: changed after it was applied as {row['file']}; "
                    f"add a new migration instead of editing an applied one"
                )
            continue
        await _apply(conn, migration)
        done.append(migration.path.name)
    if done:
        log.info("applied migrations on %s: %s", backend.value, ", ".join(done))
    return MigrationResult(backend=backend, applied=done)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    try:
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, file, checksum) "
                "VALUES ($1, $2, $3, $4)",
                migration.version,
                migration.name,
                migration.path.name,
                migration.checksum,
            )
    except asyncpg.exceptions.PostgresError as error:
        raise MigrationError(f"{migration.path.name}: {error}") from error
