"""The demo's duty officer: checks signatures, prints each message once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from alerts.notify.signing import signed_headers
from cityvitals.demo_receiver import DemoReceiver

MESSAGE = {
    "status": "firing",
    "alerts": [
        {"status": "firing", "annotations": {"summary_zh": "殷行街道 yp-wp-0001 管网压力 0.15"}},
        {"status": "firing", "annotations": {"summary_zh": "殷行街道 yp-wp-0002 管网压力 0.14"}},
    ],
}


async def test_signed_messages_are_printed_once_and_forgeries_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = json.dumps(MESSAGE, ensure_ascii=False).encode()
    async with DemoReceiver.running("s3cret") as receiver, httpx.AsyncClient() as http:
        good = signed_headers("s3cret", "key-1", body, datetime.now(UTC))
        forged = signed_headers("guess", "key-2", body, datetime.now(UTC))
        assert (await http.post(receiver.url, content=body, headers=good)).status_code == 200
        assert (await http.post(receiver.url, content=body, headers=good)).status_code == 200
        assert (await http.post(receiver.url, content=body, headers=forged)).status_code == 401
    printed = capsys.readouterr().out
    assert printed.count("🔔") == 1  # the retry with the same key is not shown again
    assert "殷行街道 yp-wp-0001 管网压力 0.15  (+1)" in printed
    assert "bad signature was refused" in printed
    assert receiver.received == 1
