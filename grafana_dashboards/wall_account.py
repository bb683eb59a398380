"""The wall login: a Grafana user with the Viewer role whose home is the overview.

Grafana OSS cannot create users from provisioning files, so this talks to its HTTP API
(grafana-client), as Grafana's server admin with user and password: the Admin API does not take
service-account tokens (https://grafana.com/docs/grafana/latest/developers/http_api/admin/).
Idempotent: each step reads first and writes only what differs, so a second run only reads.

  1. the home dashboard exists          GET   /api/dashboards/uid/{uid}
  2. the user, created if missing       GET   /api/users/lookup, POST /api/admin/users
     with our password (tried by logging in as it, set if refused)
                                        GET   /api/user, PUT /api/admin/users/{id}/password
     never a server admin               PUT   /api/admin/users/{id}/permissions
  3. role Viewer in the organisation    GET   /api/org/users, PATCH /api/org/users/{id}
  4. its home and theme (as the wall)   GET / PATCH /api/user/preferences
  5. the organisation's home            GET / PATCH /api/org/preferences
  6. the wall can open its home         GET   /api/dashboards/uid/{uid} (as the wall)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grafana_client.client import GrafanaClientError
from grafana_client.model import PersonalPreferences

from grafana_dashboards.errors import PushError
from grafana_dashboards.push import api_step

HOME_UID = "cityvitals-overview"  # the zh overview (grafana_dashboards/zh/overview.json)
VIEWER = "Viewer"


@dataclass(frozen=True)
class WallAccount:
    login: str
    password: str
    name: str = "城市生命体征大屏"
    home_uid: str = HOME_UID
    theme: str = "dark"  # walls are dark rooms' screens


@dataclass
class WallReport:
    changes: list[str] = field(default_factory=list)  # what this run changed, in order
    user_id: int = 0


def _absent_is_none(call: Callable[[], Any]) -> Any:
    """The call's answer, or None when Grafana answers 404."""
    try:
        return call()
    except GrafanaClientError as error:
        if error.status_code == 404:
            return None
        raise


class WallProvisioner:
    """`admin`: an API client as the server admin; `login_as(user, password)`: a client as the
    wall (see `grafana_dashboards.push.connect`)."""

    def __init__(self, admin: Any, login_as: Callable[[str, str], Any]) -> None:
        self._admin = admin
        self._login_as = login_as

    def provision(self, account: WallAccount) -> WallReport:
        if not account.login or not account.password:
            raise PushError("the wall login needs a name and a password")
        report = WallReport()
        with api_step(f"reading the home dashboard {account.home_uid}"):
            home = _absent_is_none(lambda: self._admin.dashboard.get_dashboard(account.home_uid))
        if home is None:
            raise PushError(
                f"home dashboard {account.home_uid} is not in Grafana: provision the walls "
                "(deploy/grafana/provisioning) or run `cityvitals grafana push` first"
            )
        report.user_id = self._user(account, report)
        self._role(account, report)
        wall = self._login_as(account.login, account.password)
        self._preferences(wall, account, report)
        with api_step(f"opening {account.home_uid} as {account.login}"):
            wall.dashboard.get_dashboard(account.home_uid)
        return report

    def _user(self, account: WallAccount, report: WallReport) -> int:
        login = account.login
        with api_step(f"looking up user {login}"):
            found = _absent_is_none(lambda: self._admin.users.find_user(login))
        if found is None:
            with api_step(f"creating user {login}"):
                org = self._admin.organization.get_current_organization()
                created = self._admin.admin.create_user(
                    {
                        "name": account.name,
                        "login": login,
                        "password": account.password,
                        "OrgId": org["id"],
                    }
                )
            report.changes.append(f"created user {login}")
            return int(created["id"])
        user_id = int(found["id"])
        if found.get("isGrafanaAdmin"):
            with api_step(f"taking server admin from {login}"):
                self._admin.admin.change_user_permissions(user_id, False)
            report.changes.append(f"{login} is no longer a server admin")
        with api_step(f"checking the password of {login}"):
            try:
                self._login_as(login, account.password).user.get_actual_user()
                current = True
            except GrafanaClientError as error:
                if error.status_code != 401:
                    raise
                current = False
        if not current:
            with api_step(f"setting the password of {login}"):
                self._admin.admin.change_user_password(user_id, account.password)
            report.changes.append(f"set the password of {login}")
        return user_id

    def _role(self, account: WallAccount, report: WallReport) -> None:
        with api_step("listing the organisation's users"):
            members = self._admin.organization.get_current_organization_users()
        mine = [m for m in members if m.get("userId") == report.user_id]
        if not mine:
            with api_step(f"adding {account.login} to the organisation"):
                self._admin.organization.add_user_current_organization(
                    {"loginOrEmail": account.login, "role": VIEWER}
                )
            report.changes.append(f"added {account.login} to the organisation as {VIEWER}")
        elif mine[0].get("role") != VIEWER:
            with api_step(f"making {account.login} a {VIEWER}"):
                self._admin.organization.update_user_current_organization(
                    report.user_id, {"role": VIEWER}
                )
            report.changes.append(f"{account.login}: role {mine[0].get('role')} -> {VIEWER}")

    def _preferences(self, wall: Any, account: WallAccount, report: WallReport) -> None:
        with api_step(f"reading the preferences of {account.login}"):
            held = wall.user.get_preferences()
        wanted = {"homeDashboardUID": account.home_uid, "theme": account.theme}
        if any(held.get(key) != value for key, value in wanted.items()):
            with api_step(f"setting the preferences of {account.login}"):
                wall.user.patch_preferences(
                    PersonalPreferences(homeDashboardUID=account.home_uid, theme=account.theme)
                )
            report.changes.append(
                f"{account.login}: home {account.home_uid}, theme {account.theme}"
            )
        with api_step("reading the organisation's preferences"):
            org = self._admin.organization.get_preferences()
        if org.get("homeDashboardUID") != account.home_uid:
            with api_step("setting the organisation's home dashboard"):
                self._admin.organization.patch_preferences(
                    PersonalPreferences(homeDashboardUID=account.home_uid)
                )
            report.changes.append(f"organisation: home {account.home_uid}")
