"""The ops centre's actions on stored alerts, and creating silences: for the CLI and the gateway.

What an action may do is the state machine's decision (`state.acknowledge` and the others); the
store applies it to the locked row and records it in one transaction. The running engine picks
the change up on its next tick. Listing and ending silences are plain store calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from alerts import store
from alerts.engine import state
from alerts.model import Alert
from alerts.notify.silences import Matcher, Silence

__all__ = ["SilenceRequest", "acknowledge", "add_note", "assign", "close", "create_silence"]


async def acknowledge(
    conn: asyncpg.Connection, fingerprint: str, by: str, note: str | None, now: datetime
) -> Alert:
    return await store.apply_ops_action(
        conn, fingerprint, lambda a: state.acknowledge(a, by, note, now), now
    )


async def assign(
    conn: asyncpg.Connection, fingerprint: str, to: str, by: str, now: datetime
) -> Alert:
    return await store.apply_ops_action(
        conn, fingerprint, lambda a: state.assign(a, to, by, now), now
    )


async def close(
    conn: asyncpg.Connection,
    fingerprint: str,
    by: str,
    note: str | None,
    now: datetime,
    *,
    confirm_firing: bool = False,
) -> Alert:
    """Raises AlertStillFiring when the alert still fires and `confirm_firing` is not given."""
    return await store.apply_ops_action(
        conn,
        fingerprint,
        lambda a: state.close(a, by, note, now, confirm_firing=confirm_firing),
        now,
    )


async def add_note(
    conn: asyncpg.Connection, fingerprint: str, by: str, note: str, now: datetime
) -> Alert:
    return await store.apply_ops_action(
        conn, fingerprint, lambda a: state.add_note(a, by, note, now), now
    )


@dataclass(frozen=True)
class SilenceRequest:
    matchers: Sequence[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str = ""


async def create_silence(conn: asyncpg.Connection, request: SilenceRequest) -> Silence:
    """Validate (raises SilenceError naming the bad matcher) and store a silence."""
    silence = Silence(
        id=secrets.token_hex(8),
        matchers=tuple(Matcher.parse(m) for m in request.matchers),
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        created_by=request.created_by,
        comment=request.comment,
    )
    await store.insert_silence(conn, silence)
    return silence
