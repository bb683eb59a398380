"""`cityvitals grafana wall-account` against the local fake of Grafana's HTTP API: the wall is a
Viewer that opens the overview and cannot save; a second run changes nothing; drift is put
back; bad credentials, an unreachable URL and a missing home say so.

Grafana itself does not run here (it is not packaged for this machine): the fake answers as
Grafana's API documentation says (tests/grafana_dashboards/fake_grafana.py)."""

from __future__ import annotations

import socket

import pytest
from grafana_client.client import GrafanaClientError
from typer.testing import CliRunner

from cityvitals.cli import app
from grafana_dashboards.errors import AuthError
from grafana_dashboards.generate import build_dashboards
from grafana_dashboards.push import Pusher, connect
from grafana_dashboards.wall_account import HOME_UID, WallAccount, WallProvisioner
from schemas.registry import Registry
from tests.grafana_dashboards.fake_grafana import State, fake_grafana

runner = CliRunner()
WALL_PASSWORD = "wall-secret-1"


def _walls(url: str, grafana: State, registry: Registry) -> None:
    Pusher(connect(url, token=grafana.token, user=None, password=None)).push(
        build_dashboards(registry)
    )


def _provision(url: str, *extra: str, password: str = "admin") -> list[str]:
    return ["grafana", "wall-account", "--url", url, "--user", "admin", "--password", password,
            "--wall-password", WALL_PASSWORD, *extra]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_grafana_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CITYVITALS_GRAFANA_URL", "GRAFANA_URL", "CITYVITALS_GRAFANA_USER",
                 "CITYVITALS_GRAFANA_PASSWORD", "CITYVITALS_GRAFANA_WALL_PASSWORD"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_the_wall_is_a_viewer_at_home_on_the_overview_and_cannot_save(
    registry: Registry,
) -> None:
    with fake_grafana() as (url, grafana):
        _walls(url, grafana, registry)
        first = runner.invoke(app, _provision(url))
        assert first.exit_code == 0, first.output
        assert "created user wall" in first.output
        wall = grafana.users["wall"]
        assert (wall.role, wall.server_admin) == ("Viewer", False)
        assert wall.preferences == {"homeDashboardUID": HOME_UID, "theme": "dark"}
        assert grafana.org_preferences == {"homeDashboardUID": HOME_UID}

        as_wall = connect(url, token=None, user="wall", password=WALL_PASSWORD)
        overview = as_wall.dashboard.get_dashboard(HOME_UID)
        assert overview["dashboard"]["uid"] == HOME_UID
        with pytest.raises(GrafanaClientError) as refused:
            as_wall.dashboard.update_dashboard(
                {
                    "dashboard": overview["dashboard"],
                    "folderUid": "cityvitals-zh",
                    "overwrite": True,
                }
            )
        assert refused.value.status_code == 403
        edited = {"zh/overview.json": {**overview["dashboard"], "title": "edited on the wall"}}
        edited["zh/overview.json"].pop("id"), edited["zh/overview.json"].pop("version")
        with pytest.raises(AuthError, match=f"saving dashboard {HOME_UID}.*not allowed"):
            Pusher(as_wall).push(edited)
        assert grafana.dashboards[HOME_UID]["dashboard"]["version"] == 1

        grafana.requests.clear()
        second = runner.invoke(app, _provision(url))
        assert second.exit_code == 0, second.output
        assert "0 change(s)" in second.output
        assert grafana.writes() == [], "a second run only reads"


def test_drift_is_put_back(registry: Registry) -> None:
    with fake_grafana() as (url, grafana):
        _walls(url, grafana, registry)
        assert runner.invoke(app, _provision(url)).exit_code == 0
        wall = grafana.users["wall"]
        wall.role, wall.server_admin, wall.password = "Editor", True, "changed-in-the-ui"
        wall.preferences["theme"] = "light"
        grafana.org_preferences.clear()
        again = runner.invoke(app, _provision(url))
        assert again.exit_code == 0, again.output
        assert "wall is no longer a server admin" in again.output
        assert "set the password of wall" in again.output
        assert "wall: role Editor -> Viewer" in again.output
        assert "5 change(s)" in again.output
        assert (wall.role, wall.server_admin, wall.password) == ("Viewer", False, WALL_PASSWORD)
        assert wall.preferences["theme"] == "dark"
        assert grafana.org_preferences == {"homeDashboardUID": HOME_UID}


def test_bad_credentials_url_and_missing_home_are_named(registry: Registry) -> None:
    with fake_grafana() as (url, grafana):
        result = runner.invoke(app, _provision(url))
        assert result.exit_code == 1
        assert f"home dashboard {HOME_UID} is not in Grafana" in result.output
        _walls(url, grafana, registry)
        wrong = runner.invoke(app, _provision(url, password="wrong"))
        assert wrong.exit_code == 1
        assert "Grafana refused the credentials" in wrong.output
        # The Admin API takes no service-account token: Grafana answers 403.
        token = connect(url, token=grafana.token, user=None, password=None)
        provisioner = WallProvisioner(token, lambda u, p: connect(url, token=None, user=u,
                                                                  password=p))  # fmt: skip
        with pytest.raises(AuthError, match="looking up user wall: not allowed"):
            provisioner.provision(WallAccount("wall", WALL_PASSWORD))
        assert "wall" not in grafana.users
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    gone = runner.invoke(app, _provision(closed))
    assert gone.exit_code == 1
    assert "cannot reach Grafana" in gone.output
    missing = runner.invoke(app, ["grafana", "wall-account", "--url", closed, "--password", "x"])
    assert missing.exit_code == 1
    assert "give the wall's password (CITYVITALS_GRAFANA_WALL_PASSWORD)" in missing.output
