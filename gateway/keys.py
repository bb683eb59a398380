"""API keys: `cvk_<id>_<secret>`. The id is public (listings, logs); only a hash is stored.

The secret is 256 random bits, so a plain SHA-256 is enough to make the stored hash useless to
whoever reads the table (slow password hashes exist for low-entropy human passwords); checking a
key costs one indexed lookup and a constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import asyncpg

from storage.api_keys import ApiKey, insert_key

PREFIX = "cvk"
_FORMAT = re.compile(r"^cvk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


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


def matches(text: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(text), stored_hash)


async def create_key(conn: asyncpg.Connection, name: str, role: str) -> tuple[ApiKey, str]:
    """Store a new key; returns it with the secret, which is not kept anywhere."""
    new = generate_key()
    return await insert_key(conn, new.id, name, role, new.secret_hash), new.secret
