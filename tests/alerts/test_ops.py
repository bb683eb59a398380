"""Ops actions and silences on stored alerts, against a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg
import pytest

from alerts import store
from alerts.engine import ops
from alerts.engine.ops import SilenceRequest
from alerts.errors import (
    AlertActionError,
    AlertNotFound,
    AlertStateError,
    AlertStillFiring,
    SilenceError,
)
from alerts.model import Alert, Grade, OpsState, Phase, Subject
from alerts.store import load_active_alerts, load_ops_changes, upsert_alerts
from tests.harness import ScratchDatabase

RULE_ID = "default:water_main_pressure:pressure:below"


def firing_alert(now: datetime, sensor: str = "yp-wp-0001") -> Alert:
    subject = Subject("sensor", sensor, "water", "yinhang")
    return Alert(
        rule_id=RULE_ID,
        subject=subject,
        phase=Phase.FIRING,
        grade=Grade.ORANGE,
        value=0.15,
        pending_since=now - timedelta(minutes=2),
        firing_since=now,
        grade_changed_at=now,
        labels={"rule_id": RULE_ID, "type": "water_main_pressure", "sensor": sensor},
    )


async def stored(conn: asyncpg.Connection, now: datetime, sensor: str = "yp-wp-0001") -> Alert:
    alert = firing_alert(now, sensor)
    await upsert_alerts(conn, [(None, alert, {})], now)
    return alert


async def row(conn: asyncpg.Connection, fingerprint: str) -> asyncpg.Record:
    record = await conn.fetchrow("SELECT * FROM alerts WHERE fingerprint = $1", fingerprint)
    assert record is not None
    return record


async def audit(
    conn: asyncpg.Connection, fingerprint: str
) -> list[tuple[str, str | None, str | None]]:
    rows = await conn.fetch(
        "SELECT kind, actor, note, rule_id FROM alert_transitions WHERE fingerprint = $1 "
        "ORDER BY id",
        fingerprint,
    )
    assert all(r["rule_id"] == RULE_ID for r in rows)
    return [(r["kind"], r["actor"], r["note"]) for r in rows]


async def test_acknowledge_writes_the_ops_columns_and_an_audit_line(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    alert = await stored(conn, now)
    fp = alert.fingerprint
    before = await row(conn, fp)
    assert (before["ops"], before["ops_seq"], before["phase"]) == ("open", 0, "firing")

    acked = await ops.acknowledge(conn, fp, "wang", "crew on the way", now + timedelta(minutes=1))
    assert acked.ops is OpsState.ACKNOWLEDGED
    after = await row(conn, fp)
    assert after["ops"] == "acknowledged"
    assert after["acknowledged_by"] == "wang"
    assert after["acknowledged_at"] == now + timedelta(minutes=1)
    assert after["note"] == "crew on the way"
    assert after["ops_seq"] > before["ops_seq"]
    # The phase columns belong to the engine and are untouched.
    assert (after["phase"], after["grade"], after["firing_since"]) == ("firing", "orange", now)
    assert await audit(conn, fp) == [("acknowledged", "wang", "crew on the way")]

    changes = await load_ops_changes(conn, before["ops_seq"])
    assert [(a.fingerprint, seq) for a, seq in changes] == [(fp, after["ops_seq"])]
    assert changes[0][0] == acked
    assert await load_ops_changes(conn, after["ops_seq"]) == []


async def test_a_double_click_writes_nothing_and_another_person_is_refused(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    fp = (await stored(conn, now)).fingerprint
    await ops.acknowledge(conn, fp, "wang", None, now)
    seq = (await row(conn, fp))["ops_seq"]
    again = await ops.acknowledge(conn, fp, "wang", None, now + timedelta(seconds=1))
    assert again.acknowledged_at == now
    assert (await row(conn, fp))["ops_seq"] == seq
    with pytest.raises(AlertStateError, match="already acknowledged by 'wang'"):
        await ops.acknowledge(conn, fp, "zhao", None, now)
    with pytest.raises(AlertActionError):
        await ops.acknowledge(conn, fp, "", None, now)
    assert (await row(conn, fp))["ops_seq"] == seq
    assert await audit(conn, fp) == [("acknowledged", "wang", None)]


async def test_assign_close_and_note(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    fp = (await stored(conn, now)).fingerprint
    seqs = [(await row(conn, fp))["ops_seq"]]

    assigned = await ops.assign(conn, fp, "crew-3", "wang", now + timedelta(minutes=1))
    assert assigned.ops is OpsState.ASSIGNED
    record = await row(conn, fp)
    assert (record["ops"], record["assignee"], record["acknowledged_by"]) == (
        "assigned",
        "crew-3",
        "wang",
    )
    seqs.append(record["ops_seq"])

    closed = await ops.close(
        conn, fp, "wang", "valve replaced", now + timedelta(minutes=30), confirm_firing=True
    )
    assert closed.ops is OpsState.CLOSED
    record = await row(conn, fp)
    assert (record["ops"], record["closed_at"], record["note"]) == (
        "closed",
        now + timedelta(minutes=30),
        "valve replaced",
    )
    assert record["assignee"] == "crew-3"
    seqs.append(record["ops_seq"])

    noted = await ops.add_note(conn, fp, "li", "write-up filed", now + timedelta(hours=1))
    assert noted.note == "write-up filed"
    record = await row(conn, fp)
    assert (record["ops"], record["note"]) == ("closed", "write-up filed")
    seqs.append(record["ops_seq"])
    assert seqs == sorted(set(seqs))  # every action bumped ops_seq

    assert await audit(conn, fp) == [
        ("acknowledged", "wang", "by assigning"),
        ("assigned", "wang", "to crew-3"),
        ("closed", "wang", "valve replaced"),
        ("note", "li", "write-up filed"),
    ]
    with pytest.raises(AlertStateError, match="closed"):
        await ops.assign(conn, fp, "crew-4", "wang", now)
    changes = await load_ops_changes(conn, 0)
    assert [(a.fingerprint, a.ops, a.note, seq) for a, seq in changes] == [
        (fp, OpsState.CLOSED, "write-up filed", seqs[-1])
    ]


async def test_ops_changes_come_in_ops_seq_order(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    first = (await stored(conn, now, "yp-wp-0001")).fingerprint
    second = (await stored(conn, now, "yp-wp-0002")).fingerprint
    await ops.acknowledge(conn, second, "wang", None, now)
    await ops.acknowledge(conn, first, "wang", None, now)
    changes = await load_ops_changes(conn, 0)
    assert [a.fingerprint for a, _ in changes] == [second, first]
    assert changes[0][1] < changes[1][1]
    assert [a.fingerprint for a, _ in await load_ops_changes(conn, changes[0][1])] == [first]


async def test_an_unknown_fingerprint(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    with pytest.raises(AlertNotFound, match="no alert with fingerprint 'feedfacefeedface'"):
        await ops.acknowledge(conn, "feedfacefeedface", "wang", None, now)
    with pytest.raises(LookupError):
        await ops.close(conn, "feedfacefeedface", "wang", None, now)


async def test_the_stored_alert_reads_back_the_same(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    alert = await stored(conn, now)
    active = await load_active_alerts(conn)
    assert [(a, esc, seq) for a, esc, seq in active] == [(alert, {}, 0)]


async def test_a_new_episode_after_a_closed_one_starts_open(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    # The engine keeps only pending and firing alerts in memory, so a new episode of a resolved
    # alert is written with no previous alert: the stored ops of the old episode must not stay.
    alert = await stored(conn, now)
    fp = alert.fingerprint
    closed = await ops.close(
        conn, fp, "wang", "repaired", now + timedelta(minutes=5), confirm_firing=True
    )
    resolved = replace(closed, phase=Phase.RESOLVED, resolved_at=now + timedelta(minutes=10))
    await upsert_alerts(conn, [(closed, resolved, {})], now + timedelta(minutes=10))
    assert (await row(conn, fp))["ops"] == "closed"

    later = now + timedelta(hours=2)
    episode = replace(firing_alert(later), phase=Phase.PENDING, firing_since=None)
    await upsert_alerts(conn, [(None, episode, {})], later)
    record = await row(conn, fp)
    assert (record["phase"], record["ops"], record["closed_at"], record["acknowledged_by"]) == (
        "pending",
        "open",
        None,
        None,
    )
    acked = await ops.acknowledge(conn, fp, "zhao", None, later)
    assert acked.acknowledged_by == "zhao"


# --- silences ------------------------------------------------------------------------------


def request(now: datetime, *matchers: str, hours: float = 2, start: float = 0) -> SilenceRequest:
    return SilenceRequest(
        matchers=matchers,
        starts_at=now + timedelta(hours=start),
        ends_at=now + timedelta(hours=start + hours),
        created_by="duty officer wang",
        comment="planned works",
    )


async def test_create_and_load_silences(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    created = await ops.create_silence(
        conn, request(now, "subdistrict=yinhang", 'grade=~"orange|red"', "sensor!=yp-wp-0002")
    )
    future = await ops.create_silence(conn, request(now, "type=water_main_pressure", start=3))
    assert created.id != future.id
    loaded = await store.load_silences(conn, now)
    assert loaded == [created, future]  # ordered by start
    assert [str(m) for m in loaded[0].matchers] == [
        "subdistrict='yinhang'",
        "grade=~'orange|red'",
        "sensor!='yp-wp-0002'",
    ]
    assert loaded[0].comment == "planned works"
    # Ended silences are not loaded.
    assert await store.load_silences(conn, now + timedelta(hours=2)) == [future]
    assert await store.load_silences(conn, now + timedelta(hours=5)) == []


async def test_a_bad_matcher_is_refused_naming_it(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    with pytest.raises(SilenceError, match=r"matcher 'subdistrict~yinhang'"):
        await ops.create_silence(conn, request(now, "grade=red", "subdistrict~yinhang"))
    with pytest.raises(SilenceError, match=r"unknown label 'district'"):
        await ops.create_silence(conn, request(now, "district=yinhang"))
    with pytest.raises(SilenceError, match="bad regular expression"):
        await ops.create_silence(conn, request(now, "sensor=~(yp"))
    with pytest.raises(SilenceError, match="would silence everything"):
        await ops.create_silence(conn, request(now, "sensor!=yp-wp-0001"))
    with pytest.raises(SilenceError, match="must be after"):
        await ops.create_silence(conn, request(now, "grade=red", hours=0))
    assert await conn.fetchval("SELECT count(*) FROM silences") == 0


async def test_expire_silence(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    silence = await ops.create_silence(conn, request(now, "subdistrict=yinhang"))
    halfway = now + timedelta(hours=1)
    expired = await store.expire_silence(conn, silence.id, halfway)
    assert expired.ends_at == halfway
    assert expired.starts_at == silence.starts_at
    assert not expired.active_at(halfway)
    assert await store.load_silences(conn, halfway) == []
    assert await conn.fetchval("SELECT count(*) FROM silences") == 1  # kept for the record
    with pytest.raises(SilenceError, match="no active or future silence"):
        await store.expire_silence(conn, silence.id, halfway)
    with pytest.raises(SilenceError, match="no active or future silence"):
        await store.expire_silence(conn, "nope", halfway)


async def test_expire_a_future_silence(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    silence = await ops.create_silence(conn, request(now, "subdistrict=yinhang", start=3))
    expired = await store.expire_silence(conn, silence.id, now)
    # It will never be active, and it is no longer among the silences in effect or to come.
    assert not any(
        expired.active_at(t)
        for t in (now, silence.starts_at, silence.starts_at + timedelta(microseconds=1))
    )
    assert await store.load_silences(conn, now) == []


async def test_closing_a_firing_alert_unconfirmed_writes_nothing(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    fp = (await stored(conn, now)).fingerprint
    with pytest.raises(AlertStillFiring, match=r"it still fires at orange, value 0\.15"):
        await ops.close(conn, fp, "wang", "done", now)
    with pytest.raises(AlertActionError, match="needs a note"):
        await ops.close(conn, fp, "wang", None, now, confirm_firing=True)
    record = await row(conn, fp)
    assert (record["ops"], record["ops_seq"]) == ("open", 0)
    assert await audit(conn, fp) == []
    closed = await ops.close(conn, fp, "wang", "known fault", now, confirm_firing=True)
    assert closed.closed_while_firing
    assert (await row(conn, fp))["ops"] == "closed"
    assert await audit(conn, fp) == [("closed", "wang", "known fault")]
    listed = await store.list_alerts(conn, closed_while_firing=True)
    assert [r["fingerprint"] for r in listed] == [fp]
    assert await store.list_alerts(conn, closed_while_firing=False) == []
