"""The store's listings for the shell, the vital signs and the demo, against a real PostgreSQL:
worst first in the one grade order, open alerts (and those closed while firing) only unless
asked, firing counts per place."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg

from alerts import store
from alerts.engine import ops
from alerts.model import Alert, Grade, Phase, Subject
from cityvitals.demo_summary import firing_by_grade
from schemas.grades import grade_rank
from tests.harness import ScratchDatabase

RULE_ID = "default:water_main_pressure:pressure:below"


def alert(sensor: str, grade: Grade | None, since: datetime, phase: Phase = Phase.FIRING) -> Alert:
    return Alert(
        rule_id=RULE_ID,
        subject=Subject("sensor", sensor, "water", "yinhang"),
        phase=phase,
        grade=grade,
        value=0.15,
        pending_since=since,
        firing_since=since if phase is Phase.FIRING else None,
    )


async def store_all(conn: asyncpg.Connection, alerts: list[Alert], now: datetime) -> None:
    await store.upsert_alerts(conn, [(None, a, {}) for a in alerts], now)


async def test_worst_first_then_longest_standing_and_only_open_ones(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    early, middle, late = now - timedelta(hours=1), now - timedelta(minutes=30), now
    await store_all(
        conn,
        [
            alert("yp-wp-0001", Grade.BLUE, early),
            alert("yp-wp-0002", Grade.RED, late),
            alert("yp-wp-0003", Grade.ORANGE, late),
            alert("yp-wp-0004", Grade.RED, early),
            alert("yp-wp-0005", Grade.YELLOW, early, Phase.PENDING),
            replace(alert("yp-wp-0006", Grade.RED, early), phase=Phase.RESOLVED),
            alert("yp-wp-0007", Grade.RED, middle),
            replace(alert("yp-wp-0008", Grade.RED, early), phase=Phase.RESOLVED),
        ],
        now,
    )
    closed = alert("yp-wp-0007", Grade.RED, middle).fingerprint
    await ops.close(conn, closed, "wang", "crew on site", now, confirm_firing=True)
    closed_resolved = alert("yp-wp-0008", Grade.RED, early).fingerprint
    await ops.close(conn, closed_resolved, "wang", "repaired", now)

    # Closed while still firing: on the duty list, marked, until it clears; closed and resolved:
    # gone.
    listed = await store.list_worst_first(conn)
    assert [(a.subject.id, a.grade, a.closed_while_firing) for a in listed] == [
        ("yp-wp-0004", Grade.RED, False),
        ("yp-wp-0007", Grade.RED, True),
        ("yp-wp-0002", Grade.RED, False),
        ("yp-wp-0003", Grade.ORANGE, False),
        ("yp-wp-0005", Grade.YELLOW, False),
        ("yp-wp-0001", Grade.BLUE, False),
    ]
    everything = await store.list_worst_first(conn, open_only=False)
    assert {a.subject.id for a in everything} == {f"yp-wp-000{i}" for i in range(1, 9)}
    ranks = [grade_rank(a.grade) for a in everything]
    assert ranks == sorted(ranks, reverse=True)


async def test_firing_counts_per_place_and_grade_and_the_demo_line(
    prepared: ScratchDatabase, conn: asyncpg.Connection, now: datetime
) -> None:
    await store_all(
        conn,
        [
            alert("yp-wp-0001", Grade.RED, now),
            alert("yp-wp-0002", Grade.RED, now),
            alert("yp-wp-0003", Grade.BLUE, now),
            alert("yp-wp-0004", Grade.ORANGE, now, Phase.PENDING),  # not firing: not counted
        ],
        now,
    )
    counts = await store.firing_counts(conn)
    assert sorted((r["domain"], r["subdistrict"], r["grade"], r["alerts"]) for r in counts) == [
        ("water", "yinhang", "blue", 1),
        ("water", "yinhang", "red", 2),
    ]
    assert await store.firing_counts(conn, domain="power") == []
    assert firing_by_grade(counts) == "红2 橙0 黄0 蓝1"
