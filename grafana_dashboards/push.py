"""Upload the walls into folders of a running Grafana through its HTTP API (grafana-client).

Idempotent: each language has a folder with a fixed uid (created, or renamed to the requested
title, when needed); a dashboard is saved only when what Grafana holds differs from ours, so a
second push changes nothing - not even Grafana's version counter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaUnauthorizedError,
)

from grafana_dashboards.errors import AuthError, PushError
from grafana_dashboards.generate import Board
from grafana_dashboards.i18n import Lang

FOLDER_TITLES = {Lang.ZH: "城市生命体征", Lang.EN: "CityVitals (English)"}
SERVER_FIELDS = ("id", "version")  # what Grafana adds to a saved dashboard
MESSAGE = "cityvitals grafana push"


def folder_uid(lang: Lang) -> str:
    return f"cityvitals-{lang.value}"


@dataclass
class PushReport:
    folders_created: list[str] = field(default_factory=list)
    folders_renamed: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)  # dashboard uids created or changed
    unchanged: list[str] = field(default_factory=list)


@contextlib.contextmanager
def api_step(what: str) -> Iterator[None]:
    """Grafana's answers and connection errors as our errors, naming `what` was being done."""
    try:
        yield
    except GrafanaUnauthorizedError as error:
        raise AuthError(f"{what}: Grafana refused the credentials ({error})") from error
    except GrafanaClientError as error:
        if error.status_code == 403:
            raise AuthError(f"{what}: not allowed ({error})") from error
        raise PushError(f"{what}: {error}") from error
    except GrafanaException as error:
        raise PushError(f"{what}: {error}") from error
    except OSError as error:  # niquests' connection errors are OSErrors, as in requests
        raise PushError(f"{what}: cannot reach Grafana ({error})") from error


def connect(url: str, *, token: str | None, user: str | None, password: str | None) -> Any:
    """A grafana-client API object: a token, else user and password (else those in the URL)."""
    credential: str | tuple[str, str] | None = token
    if credential is None and user is not None:
        credential = (user, password or "")
    return GrafanaApi.from_url(url, credential=credential, timeout=30.0)


class Pusher:
    def __init__(self, api: Any) -> None:
        self._api = api

    def push(
        self, boards: Mapping[str, Board], folder_titles: Mapping[Lang, str] = FOLDER_TITLES
    ) -> PushReport:
        """`boards` by file name (`zh/overview.json`), as `build_dashboards` gives them."""
        report = PushReport()
        for lang, title in folder_titles.items():
            self._folder(folder_uid(lang), title, report)
        for name, board in boards.items():
            lang = Lang(name.split("/")[0])
            if lang in folder_titles:
                self._dashboard(board, folder_uid(lang), report)
        return report

    def _folder(self, uid: str, title: str, report: PushReport) -> None:
        with api_step(f"looking up folder {uid}"):
            try:
                found = self._api.folder.get_folder(uid)
            except GrafanaClientError as error:
                if error.status_code != 404:
                    raise
                found = None
        if found is None:
            with api_step(f"creating folder {title!r}"):
                self._api.folder.create_folder(title, uid=uid)
            report.folders_created.append(uid)
        elif found.get("title") != title:
            with api_step(f"renaming folder {uid} to {title!r}"):
                self._api.folder.update_folder(uid, title=title, overwrite=True)
            report.folders_renamed.append(uid)

    def _dashboard(self, board: Board, folder: str, report: PushReport) -> None:
        uid = board["uid"]
        with api_step(f"reading dashboard {uid}"):
            try:
                stored = self._api.dashboard.get_dashboard(uid)
            except GrafanaClientError as error:
                if error.status_code != 404:
                    raise
                stored = None
        if stored is not None and _same(stored, board, folder):
            report.unchanged.append(uid)
            return
        body = {"dashboard": board, "folderUid": folder, "overwrite": True, "message": MESSAGE}
        with api_step(f"saving dashboard {uid} ({board.get('title')})"):
            self._api.dashboard.update_dashboard(body)
        report.saved.append(uid)


def _same(stored: Mapping[str, Any], board: Board, folder: str) -> bool:
    held = {k: v for k, v in stored.get("dashboard", {}).items() if k not in SERVER_FIELDS}
    return held == board and stored.get("meta", {}).get("folderUid") == folder
