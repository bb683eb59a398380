"""API keys: `cvk_<id>_<secret>`. The id is public (listings, logs); only a hash is stored.

The secret is 256 random bits, so a plain SHA-256 is enough to make the stored hash useless to
whoever reads the table (slow password hashes exist for low-entropy human passwords); checking a
key costs one indexed lookup and a constant-time comparison.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass

import asyncpg

from storage.api_keys import ApiKey, KeyScope, insert_key

PREFIX = "cvk"
_FORMAT = re.compile(r"^cvk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
MAX_NAME = 100
# A key's name is recorded as the actor of its ops actions and printed by `keys list`, in logs
# and the audit trail: a control character (ANSI escapes) or a bidi override (U+202A-U+202E,
# U+2066-U+2069) would make it read as something else there. Cf also holds zero-width and other
# invisible characters; Zl/Zp break lines; Cs cannot be encoded.
_UNPRINTABLE = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character (bidi override, zero-width, ...)",
    "Cs": "a surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


@dataclass(frozen=True)
class NewKey:
    id: str
    secret: str  # the whole key as the client sends it; shown once
    secret_hash: str


def generate_key() -> NewKey:
    key_id = secrets.token_hex(6)
    text = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, text, hash_key(text))


def hash_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_key(text: str) -> str | None:
    """The key's id, or None when `text` is not shaped like one of our keys."""
    match = _FORMAT.match(text)
    return None if match is None else match.group(1)


def name_problem(name: str) -> str | None:
    """What is wrong with a key's name (a sentence without the field), or None."""
    if not name.strip():
        return "must not be empty"
    if name != name.strip():
        return "must not start or end with white space"
    if len(name) > MAX_NAME:
        return f"{len(name)} characters; at most {MAX_NAME}"
    for position, char in enumerate(name, start=1):
        what = _UNPRINTABLE.get(unicodedata.category(char))
        if what is not None:
            label = unicodedata.name(char, "")
            code = f"U+{ord(char):04X}{' ' + label if label else ''}"
            return f"character {position} is {code}, {what}; names hold printable text only"
    return None


def printable(text: str) -> str:
    """`text` with what `name_problem` refuses escaped (names stored before it was refused)."""
    if all(unicodedata.category(c) not in _UNPRINTABLE for c in text):
        return text
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _UNPRINTABLE else c for c in text
    )


async def create_key(
    conn: asyncpg.Connection, name: str, role: str, scope: KeyScope | None = None
) -> tuple[ApiKey, str]:
    """Store a new key; returns it with the secret, which is not kept anywhere. The callers
    check the name (`name_problem`) and the scope (`gateway.scopes.key_scope`) first."""
    new = generate_key()
    key = await insert_key(conn, new.id, name, role, new.secret_hash, scope)
    return key, new.secret
