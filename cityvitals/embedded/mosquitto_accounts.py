"""The accounts of an embedded Mosquitto that refuses anonymous clients: who may connect, with
which password, and which topics each may read or write.

Passwords are generated once per broker directory and kept in its `accounts` file (see
`credentials`); at each start the broker gets a hashed copy (`passwd`, hashed by Mosquitto's
own `mosquitto_passwd`, so the format is always the installed broker's) and an ACL file
written from the accounts. Anything an account's ACL lines do not allow is denied.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cityvitals.embedded.credentials import ACCOUNT_NAME, kept_passwords, write_private
from cityvitals.embedded.errors import BinaryNotFound, EmbeddedServiceError

# The passwords, in plain text (`name:password` lines, 0600): the one copy a person reads.
ACCOUNTS_FILE = "accounts"
_ACL_LINE = re.compile(r"topic (?:(?:read|write|readwrite) )?\S+")


@dataclass(frozen=True)
class BrokerAccount:
    """An account and its Mosquitto ACL lines (``topic read city/v1/+/+/+/telemetry``); none:
    it may connect and nothing more."""

    name: str
    acl: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not ACCOUNT_NAME.fullmatch(self.name):
            raise ValueError(f"broker account {self.name!r}: not an account name")
        for line in self.acl:
            if not _ACL_LINE.fullmatch(line):
                raise ValueError(
                    f"broker account {self.name}: {line!r} is not `topic [read|write|readwrite] "
                    "<filter>`"
                )


def find_mosquitto_passwd(broker: Path) -> Path:
    """`mosquitto_passwd` beside the broker, else on PATH (Debian: /usr/bin, the broker in
    /usr/sbin)."""
    for candidate in (broker.with_name("mosquitto_passwd"), shutil.which("mosquitto_passwd")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise BinaryNotFound(
        "mosquitto_passwd not found (it comes with the mosquitto package): the broker's "
        "passwords cannot be hashed"
    )


def account_files(work_dir: Path) -> tuple[Path, Path]:
    """Where the broker in `work_dir` finds its password file and its ACL file."""
    return work_dir / "passwd", work_dir / "acl"


def write_account_files(accounts: tuple[BrokerAccount, ...], work_dir: Path, broker: Path) -> None:
    """The broker's password file and ACL file for `accounts` (`account_files`), from the
    passwords kept in `work_dir/accounts`."""
    passwords = kept_passwords(work_dir / ACCOUNTS_FILE, [a.name for a in accounts])
    password_file, acl_file = account_files(work_dir)
    write_private(password_file, "".join(f"{n}:{p}\n" for n, p in passwords.items()))
    hashed = subprocess.run(
        [str(find_mosquitto_passwd(broker)), "-U", str(password_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if hashed.returncode != 0:
        password_file.unlink(missing_ok=True)  # never leave the plain-text copy behind
        raise EmbeddedServiceError(f"mosquitto_passwd -U failed: {hashed.stderr.strip()}")
    os.chmod(password_file, 0o600)
    lines = ["# Written by cityvitals.embedded at each start, from the broker's accounts."]
    for account in accounts:
        lines += ["", f"user {account.name}", *account.acl]
    write_private(acl_file, "\n".join(lines) + "\n")
