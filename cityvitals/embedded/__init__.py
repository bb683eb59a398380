"""Throwaway PostgreSQL and Mosquitto servers for tests, the demo and benchmarks."""

from cityvitals.embedded.errors import (
    BinaryNotFound,
    DirectoryInUse,
    EmbeddedServiceError,
    StartupFailed,
)
from cityvitals.embedded.mosquitto import EmbeddedMosquitto, find_mosquitto
from cityvitals.embedded.pgbin import find_pg_bin_dir, timescaledb_available
from cityvitals.embedded.ports import free_port, wait_for_port
from cityvitals.embedded.postgres import TIMESCALEDB_SETTINGS, EmbeddedPostgres
from cityvitals.embedded.stack import EmbeddedStack

__all__ = [
    "TIMESCALEDB_SETTINGS",
    "BinaryNotFound",
    "DirectoryInUse",
    "EmbeddedMosquitto",
    "EmbeddedPostgres",
    "EmbeddedServiceError",
    "EmbeddedStack",
    "StartupFailed",
    "find_mosquitto",
    "find_pg_bin_dir",
    "free_port",
    "timescaledb_available",
    "wait_for_port",
]
