"""The demo's database: made on the first run, this run's API keys, where history starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from cityvitals.demo_banner import DEMO_DATABASE, DemoKeys
from cityvitals.embedded import EmbeddedPostgres
from gateway.keys import create_key
from storage.api_keys import list_keys, revoke_key

# This run's keys, named so in the audit trail; each start revokes the earlier run's (and the
# single admin key "demo" that demos before these two made).
OPERATOR_KEY_NAME = "demo-operator"
VIEWER_KEY_NAME = "demo-viewer"
_EARLIER_KEY_NAMES = {"demo", OPERATOR_KEY_NAME, VIEWER_KEY_NAME}
FIRST_BACKFILL = timedelta(hours=6)
LATER_BACKFILL = timedelta(hours=1)


def ensure_database(postgres: EmbeddedPostgres) -> None:
    exists = postgres.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DEMO_DATABASE}'").strip()
    if not exists:
        postgres.create_database(DEMO_DATABASE)


async def demo_keys(database_url: str) -> DemoKeys:
    """Fresh keys for this run; the previous runs' demo keys are revoked."""
    conn = await asyncpg.connect(database_url)
    try:
        now = datetime.now(UTC)
        for old in await list_keys(conn):
            if old.name in _EARLIER_KEY_NAMES:
                await revoke_key(conn, old.id, now)
        _, operator = await create_key(conn, OPERATOR_KEY_NAME, "operator")
        _, viewer = await create_key(conn, VIEWER_KEY_NAME, "viewer")
        return DemoKeys(operator=operator, viewer=viewer)
    finally:
        await conn.close()


async def history_to_fill(database_url: str) -> timedelta:
    """How far back the simulated city starts: six hours on a first run, so the walls have
    history; one hour on later runs, whose history is there already."""
    conn = await asyncpg.connect(database_url)
    try:
        history = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM readings)")
    finally:
        await conn.close()
    return LATER_BACKFILL if history else FIRST_BACKFILL
