"""Passwords the embedded servers make for themselves and keep beside their data.

A server's passwords are generated the first time it starts on a directory and kept there, so a
later run (and whoever configured a device against it) finds the same ones. The files are the
only copies and are readable by their owner alone (0600): a password here admits a client to
the demo's broker or to its database as superuser. Nothing else prints or logs them whole.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from schemas.inventory import SENSOR_ID_PATTERN

# URL-safe, so a password goes into mqtt:// and postgresql:// URLs without quoting.
_PASSWORD_BYTES = 24
# An account name: shaped like a sensor id, as a sensor's broker account is its id (so no ':'
# or blank, which the broker's password file and ACL could not take).
ACCOUNT_NAME = re.compile(SENSOR_ID_PATTERN)


def new_password() -> str:
    return secrets.token_urlsafe(_PASSWORD_BYTES)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner alone, never more."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 rather than chmod-ed after writing: no moment where others could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode through O_TRUNC
        file.write(text)


def kept_password(path: Path) -> str:
    """The password kept in `path` (the password alone: `PGPASSWORD="$(cat path)"`), made and
    kept on first use."""
    password = path.read_text(encoding="utf-8").strip() if path.exists() else ""
    if not password or _readable_by_others(path):
        password = password or new_password()
        write_private(path, password + "\n")
    return password


def kept_passwords(path: Path, names: Iterable[str]) -> dict[str, str]:
    """A password for each of `names`, kept in `path` as `name:password` lines (the plain-text
    form `mosquitto_passwd -U` hashes); names new to the file get a new password, others keep
    theirs, names the file has that are not asked for stay in it."""
    kept = _read(path)
    wanted = list(names)
    for name in wanted:
        if not ACCOUNT_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an account name (letters, digits, '_', '.', '-')")
    missing = [name for name in wanted if name not in kept]
    if missing or _readable_by_others(path):
        kept.update((name, new_password()) for name in missing)
        write_private(path, "".join(f"{name}:{password}\n" for name, password in kept.items()))
    return {name: kept[name] for name in wanted}


def _read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    kept = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name, colon, password = line.partition(":")
        if not (colon and ACCOUNT_NAME.fullmatch(name) and password):
            raise ValueError(f"{path}:{number}: not a `name:password` line")
        kept[name] = password
    return kept


def _readable_by_others(path: Path) -> bool:
    # A copy restored with a loose mode is tightened on the next start.
    return path.exists() and bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
