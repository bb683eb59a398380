"""Throwaway PostgreSQL and Mosquitto servers for tests, the demo and benchmarks."""

from cityvitals.embedded.errors import BinaryNotFound, EmbeddedServiceError, StartupFailed
from cityvitals.embedded.mosquitto import EmbeddedMosquitto, find_mosquitto
from cityvitals.embedded.pgbin import find_pg_bin_dir, timescaledb_available
from cityvitals.embedded.ports import free_port, wait_for_port
from cityvitals.embedded.postgres import EmbeddedPostgres

__all__ = [
    "BinaryNotFound",
    "EmbeddedMosquitto",
    "EmbeddedPostgres",
    "EmbeddedServiceError",
    "StartupFailed",
    "find_mosquitto",
    "find_pg_bin_dir",
    "free_port",
    "timescaledb_available",
    "wait_for_port",
]
