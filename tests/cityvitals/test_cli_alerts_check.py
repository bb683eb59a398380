"""`cityvitals alerts check` on a receivers file: refusals name the key, and a file that lets
receivers call this host says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityvitals.cli import app

runner = CliRunner()
HOOK = "receivers: [{name: duty, kind: webhook, url: 'http://127.0.0.1:9/hook', secret_env: S}]\n"


def _check(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    receivers = tmp_path / "receivers.yaml"
    receivers.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CITYVITALS_ALERTS__RECEIVERS_PATH", str(receivers))
    monkeypatch.setenv("S", "a-secret")
    result = runner.invoke(app, ["alerts", "check"])
    return result.exit_code, result.output


def test_a_receiver_on_this_host_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _check(tmp_path, HOOK, monkeypatch)
    assert code == 1
    assert "receivers.yaml: receivers[0].url: 127.0.0.1 is this host" in output


def test_allowing_it_passes_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _check(tmp_path, HOOK + "allow_local_urls: true\n", monkeypatch)
    assert code == 0, output
    assert "1 receivers and 0 routes valid" in output
    assert "allow_local_urls is set" in output
