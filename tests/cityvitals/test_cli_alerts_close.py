"""`cityvitals alerts close` and `alerts list` follow the state machine's closing rule against a
real PostgreSQL: a still-firing alert needs --confirm-firing and --note, and stays listed
(marked closed!) until its condition clears."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from alerts.model import Alert, Grade, Phase, Subject
from alerts.store import upsert_alerts
from cityvitals.cli import app
from tests.harness import POSTGRES_ONLY, ScratchDatabase

runner = CliRunner()
RULE = "default:water_main_pressure:pressure:below"


async def cli(*args: str) -> Result:
    """The command in a thread: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(lambda: runner.invoke(app, ["alerts", *args]))


@POSTGRES_ONLY
async def test_close_a_firing_alert_from_the_shell(
    prepared: ScratchDatabase,
    conn: asyncpg.Connection,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CITYVITALS_DATABASE_URL", prepared.url)
    alert = Alert(
        RULE,
        Subject("sensor", "yp-wp-0001", "water", "yinhang"),
        phase=Phase.FIRING,
        grade=Grade.RED,
        value=0.08,
        pending_since=now - timedelta(minutes=5),
        firing_since=now - timedelta(minutes=3),
    )
    await upsert_alerts(conn, [(None, alert, {})], now)
    fp = alert.fingerprint

    refused = await cli("close", fp, "--by", "wang", "--note", "done")
    assert refused.exit_code == 1
    assert "it still fires at red, value 0.08 at its last change" in refused.output
    assert "--confirm-firing --note" in refused.output
    no_note = await cli("close", fp, "--by", "wang", "--confirm-firing")
    assert no_note.exit_code == 1
    assert "needs a note saying why" in no_note.output
    assert await conn.fetchval("SELECT ops FROM alerts WHERE fingerprint = $1", fp) == "open"

    closed = await cli("close", fp, "--by", "wang", "--confirm-firing", "--note", "known fault")
    assert closed.exit_code == 0, closed.output
    assert f"{fp}: closed while still firing at red" in closed.output
    audit = await conn.fetchrow(
        "SELECT kind, actor, note, to_phase FROM alert_transitions WHERE fingerprint = $1", fp
    )
    assert audit is not None
    assert tuple(audit) == ("closed", "wang", "known fault", "firing")

    listed = await cli("list")
    assert listed.exit_code == 0, listed.output
    [line] = [row for row in listed.output.splitlines() if row.startswith(fp)]
    assert line.split()[1:4] == ["firing", "red", "closed!"]
    assert "1 alert(s)" in listed.output
    assert "closed!: closed while still firing" in listed.output

    # Once the condition clears it leaves the list.
    await conn.execute("UPDATE alerts SET phase = 'resolved' WHERE fingerprint = $1", fp)
    cleared = await cli("list")
    assert "0 alert(s)" in cleared.output
    assert fp not in cleared.output
