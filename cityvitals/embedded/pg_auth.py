"""The embedded PostgreSQL's one way in: the superuser's password.

initdb's own pg_hba.conf trusts every local user, over the socket and over TCP alike, as any
role, the superuser included. Before the server first starts on a data directory, the superuser
`postgres` gets a password (made and kept beside the data directory, 0600: `credentials`) and
pg_hba.conf is replaced by ours, which asks every connection for a password (SCRAM). The
password is set in single-user mode, with no server listening: there is no moment when the
cluster is open. A directory made before (trusting) is converted the same way on its next start.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cityvitals.embedded.credentials import kept_password
from cityvitals.embedded.errors import StartupFailed

SUPERUSER = "postgres"
_HBA_MARK = "# cityvitals.embedded: every connection needs the superuser's password"
_HBA = f"""{_HBA_MARK}
# (kept in {{password_file}}); the launcher rewrites any other pg_hba.conf it finds.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""


def password_file_of(data_dir: Path) -> Path:
    """A sibling of the data directory, like the server log: initdb wants the directory empty."""
    return data_dir.with_name(data_dir.name + ".password")


def require_password(
    data_dir: Path, postgres: Path, run: Callable[..., subprocess.CompletedProcess[Any]]
) -> str:
    """The superuser's password, and the only way into the cluster in `data_dir` (stopped).

    `run(cmd, **kwargs)` runs a server binary as the account the server runs as."""
    password_file = password_file_of(data_dir)
    hba = data_dir / "pg_hba.conf"
    already = password_file.exists() and hba.read_text(encoding="utf-8").startswith(_HBA_MARK)
    password = kept_password(password_file)
    if already:
        return password
    # One statement per line in single-user mode; a token_urlsafe password needs no quoting,
    # doubling quotes keeps it so for any other.
    literal = password.replace("'", "''")
    statements = (
        "SET password_encryption = 'scram-sha-256';\n"
        f"ALTER ROLE {SUPERUSER} PASSWORD '{literal}';\n"
    )
    result = run(
        [str(postgres), "--single", "-D", str(data_dir), SUPERUSER],
        input=statements,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Single-user mode reports a failed statement on its output and still exits 0.
    if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
        raise StartupFailed(
            f"postgres: setting the superuser's password on {data_dir} failed: "
            f"{(result.stderr or result.stdout).strip().replace(password, '***')}"
        )
    hba.write_text(_HBA.format(password_file=password_file), encoding="utf-8")
    return password
