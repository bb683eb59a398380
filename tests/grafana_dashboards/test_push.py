"""`cityvitals grafana push` against a local fake of the Grafana HTTP API: idempotent."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cityvitals.cli import app
from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.i18n import Lang
from grafana_dashboards.push import Pusher, connect, folder_uid
from schemas.registry import Registry
from tests.grafana_dashboards.fake_grafana import fake_grafana

runner = CliRunner()


def test_push_creates_folders_and_dashboards_then_changes_nothing(registry: Registry) -> None:
    boards = build_dashboards(registry)
    with fake_grafana() as (url, grafana):
        pusher = Pusher(connect(url, token=grafana.token, user=None, password=None))
        first = pusher.push(boards)
        assert sorted(first.folders_created) == ["cityvitals-en", "cityvitals-zh"]
        assert sorted(first.saved) == sorted(b["uid"] for b in boards.values())
        versions = {uid: d["dashboard"]["version"] for uid, d in grafana.dashboards.items()}
        grafana.requests.clear()

        second = pusher.push(boards)
        assert (second.folders_created, second.saved) == ([], [])
        assert len(second.unchanged) == len(boards) == 16
        assert not [r for r in grafana.requests if r[0] != "GET"], "a second push writes nothing"
        assert {u: d["dashboard"]["version"] for u, d in grafana.dashboards.items()} == versions
        zh = {uid for uid, d in grafana.dashboards.items() if d["folderUid"] == "cityvitals-zh"}
        assert zh == {b["uid"] for name, b in boards.items() if name.startswith("zh/")}


def test_push_saves_only_what_changed_and_renames_the_folder(registry: Registry) -> None:
    boards = build_dashboards(registry)
    with fake_grafana() as (url, grafana):
        pusher = Pusher(connect(url, token=None, user="admin", password="admin"))
        pusher.push(boards)
        grafana.dashboards["cityvitals-water"]["dashboard"]["title"] = "edited in the UI"
        report = pusher.push(boards, {Lang.ZH: "城市运行体征", Lang.EN: "CityVitals (English)"})
        assert report.saved == ["cityvitals-water"]
        assert report.folders_renamed == [folder_uid(Lang.ZH)]
        assert grafana.folders["cityvitals-zh"]["title"] == "城市运行体征"
        assert grafana.dashboards["cityvitals-water"]["dashboard"]["version"] == 2


def test_cli_push_twice_and_one_language(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_grafana() as (url, grafana):
        monkeypatch.setenv("CITYVITALS_GRAFANA_TOKEN", grafana.token)
        result = runner.invoke(app, ["grafana", "push", "--url", url, "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert "8 dashboards saved, 0 unchanged" in result.output
        assert set(grafana.folders) == {"cityvitals-en"}
        again = runner.invoke(app, ["grafana", "push", "--url", url, "--lang", "en"])
        assert "0 dashboards saved, 8 unchanged" in again.output


def test_cli_push_names_the_step_that_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYVITALS_GRAFANA_TOKEN", raising=False)
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    with fake_grafana() as (url, _):
        result = runner.invoke(app, ["grafana", "push", "--url", url, "--token", "wrong"])
    assert result.exit_code == 1
    assert "looking up folder cityvitals-zh: Grafana refused the credentials" in result.output


def test_cli_push_sets_the_console_url_of_the_linked_boards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fake_grafana() as (url, grafana):
        monkeypatch.setenv("CITYVITALS_GRAFANA_TOKEN", grafana.token)
        push = ["grafana", "push", "--url", url, "--lang", "en"]
        assert runner.invoke(app, push).exit_code == 0
        moved = runner.invoke(app, [*push, "--console-url", "https://ops.example"])
        assert moved.exit_code == 0, moved.output
        assert "2 dashboards saved, 6 unchanged" in moved.output  # the alert and sensor boards
        board = grafana.dashboards["cityvitals-sensor-en"]["dashboard"]
        [variable] = [v for v in board["templating"]["list"] if v["name"] == "console_url"]
        assert variable["query"] == "https://ops.example"
        refused = runner.invoke(app, [*push, "--console-url", "ops.example"])
        assert refused.exit_code == 1
        assert "--console-url: the console URL 'ops.example'" in refused.output
