"""Storage errors, split by what the caller should do about them.

Hierarchy::

    StorageError
    ├── DatabaseUnavailable   the server cannot be reached or went away: retry later, do not ack
    │   └── PoolExhausted     reachable, but no pooled connection came free in time: busy
    ├── MigrationError        the schema cannot be brought up to date (names the migration)
    ├── BackendError          the requested backend (TimescaleDB) is not usable on this server
    └── WriteRejected         the data itself is wrong (say, a bad clock): retrying won't help

asyncpg's own exceptions are converted where they enter this package (see `translate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


class StorageError(Exception):
    """Base class of storage errors."""


class DatabaseUnavailable(StorageError):
    """Transient: connection refused, lost, or the server is shutting down or starting up."""


class PoolExhausted(DatabaseUnavailable):
    """No pooled connection came free within the acquire timeout: every one is in use."""


class MigrationError(StorageError):
    """A migration failed, or an applied migration's file was edited afterwards."""


class BackendError(StorageError):
    """The configured storage backend cannot be used with this database server."""


class WriteRejected(StorageError):
    """A batch the database refuses for a reason retrying will not fix."""


_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    # A connection left mid-operation by a lost server ("another operation is in progress").
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, _TRANSIENT)


@asynccontextmanager
async def translate(action: str) -> AsyncIterator[None]:
    """Turn asyncpg and socket errors raised while doing `action` into StorageErrors."""
    try:
        yield
    except StorageError:
        raise
    except _TRANSIENT as error:
        raise DatabaseUnavailable(f"{action}: database unavailable ({error!r})") from error
    except asyncpg.exceptions.PostgresError as error:
        raise StorageError(f"{action}: {error.__class__.__name__}: {error}") from error
