"""Status payloads: the bare words of a birth or last will, or JSON with the state and its time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.status import StatusReport, decode_status
from schemas.telemetry import Rejection

ARRIVED = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_bare_words_and_untimed_json_are_timed_by_their_arrival() -> None:
    assert decode_status(b"offline\n", ARRIVED) == StatusReport(False, ARRIVED, sender_timed=False)
    assert decode_status(b'{"state": "online"}', ARRIVED) == StatusReport(True, ARRIVED, False)


def test_a_status_with_its_own_time_keeps_it() -> None:
    status = decode_status(b'{"state": "offline", "ts": "2026-11-25T08:00:00+08:00"}', ARRIVED)
    assert status == StatusReport(False, ARRIVED, sender_timed=True)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"state": "online", "ts": 10000000000000000}',
        b'{"state": [1]}',
        b"[]",
        b"maybe",
        b'{"state": "online", "ts": "0001-01-01T00:00:00+01:00"}',
    ],
)
def test_bad_status_payloads_are_rejections_not_crashes(payload: bytes) -> None:
    assert isinstance(decode_status(payload, datetime.now(UTC)), Rejection)
