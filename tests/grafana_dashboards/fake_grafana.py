"""A small HTTP server with the few Grafana API endpoints `cityvitals grafana push` and
`cityvitals grafana wall-account` use, answering as Grafana's documentation says.

Folders (GET/POST /api/folders, PUT /api/folders/{uid}) and dashboards (GET
/api/dashboards/uid/{uid}, POST /api/dashboards/db), with Grafana's answers: 404 for what is not
there, 401 without valid credentials, 412 when a dashboard exists and `overwrite` is not set,
and `id` / `version` added to what is stored. Every request is logged as (method, path).

Users, organisation roles and preferences (see `_users`, `_org`, `_preferences`): basic auth as
any user, the token as an organisation Admin service account (never a server admin, so the
Admin API refuses it), and the roles enforced where Grafana enforces them: only Editors and
Admins save dashboards or folders (https://grafana.com/docs/grafana/latest/administration/
roles-and-permissions/#organization-roles: a Viewer "can view ... cannot create or edit").
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

ROLES = ("Viewer", "Editor", "Admin")


@dataclass
class User:
    id: int
    login: str
    password: str
    name: str = ""
    role: str = "Viewer"  # in the one organisation (auto_assign_org_role's default)
    server_admin: bool = False
    preferences: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    token: str = "secret-token"
    basic: tuple[str, str] = ("admin", "admin")
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by login
    org_preferences: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        login, password = self.basic
        self.users[login] = User(1, login, password, "admin", role="Admin", server_admin=True)

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]


# The token's principal: a service account with the organisation's Admin role.
SERVICE_ACCOUNT = User(0, "sa-cityvitals", "", role="Admin")


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # one reply is two writes (head, body): without this, delayed ACKs add 40 ms each
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _principal(self) -> User | None:
            header = self.headers.get("Authorization", "")
            if header == f"Bearer {state.token}":
                return SERVICE_ACCOUNT
            if not header.startswith("Basic "):
                return None
            login, _, password = base64.b64decode(header[6:]).decode().partition(":")
            user = state.users.get(login)
            return user if user is not None and user.password == password else None

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self, method: str) -> None:
            body = self._body() if method in ("POST", "PUT", "PATCH") else None
            with state.lock:
                state.requests.append((method, self.path))
                who = self._principal()
                if who is None:
                    self._reply(401, {"message": "Unauthorized"})
                    return
                request = Request(method, urlsplit(self.path), body, who)
                status, answer = _route(state, request)
            self._reply(status, answer)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


@dataclass(frozen=True)
class Request:
    method: str
    url: SplitResult
    body: Any
    who: User

    @property
    def parts(self) -> list[str]:
        return self.url.path.strip("/").split("/")


DENIED = 403, {"message": "You'll need additional permissions to perform this action."}


def _can(who: User, role: str) -> bool:
    return ROLES.index(who.role) >= ROLES.index(role)


def _route(state: State, request: Request) -> tuple[int, object]:
    method, parts, body = request.method, request.parts, request.body
    if parts[:2] in (["api", "users"], ["api", "admin"], ["api", "user"]):
        return _users(state, request)
    if parts[:2] == ["api", "org"]:
        return _org(state, request)
    if parts[:2] == ["api", "folders"]:
        if method != "GET" and not _can(request.who, "Editor"):
            return DENIED
        return _folders(state, method, parts[2] if len(parts) > 2 else None, body)
    if method == "GET" and parts[:3] == ["api", "dashboards", "uid"] and len(parts) == 4:
        found = state.dashboards.get(parts[3])
        if found is None:
            return 404, {"message": "Dashboard not found"}
        return 200, {"dashboard": found["dashboard"], "meta": {"folderUid": found["folderUid"]}}
    if method == "POST" and parts == ["api", "dashboards", "db"]:
        if not _can(request.who, "Editor"):
            return DENIED
        return _save_dashboard(state, body)
    return 404, {"message": "Not found"}


def _folders(state: State, method: str, uid: str | None, body: Any) -> tuple[int, object]:
    if method == "GET" and uid:
        if uid not in state.folders:
            return 404, {"message": "folder not found"}
        return 200, state.folders[uid]
    if method == "POST" and uid is None:
        if body["uid"] in state.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        state.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "version": 1}
        return 200, state.folders[body["uid"]]
    if method == "PUT" and uid in state.folders:
        folder = state.folders[uid]
        folder.update(title=body["title"], version=folder["version"] + 1)
        return 200, folder
    return 404, {"message": "Not found"}


def _save_dashboard(state: State, body: Any) -> tuple[int, object]:
    board = body["dashboard"]
    if not board.get("uid") or not board.get("title"):
        return 400, {"message": "Dashboard title and uid are required"}
    if body.get("folderUid") not in state.folders:
        return 400, {"message": "folder not found"}
    old = state.dashboards.get(board["uid"])
    if old is not None and not body.get("overwrite"):
        return 412, {"message": "The dashboard has been changed by someone else"}
    number = old["dashboard"]["id"] if old else len(state.dashboards) + 1
    version = old["dashboard"]["version"] + 1 if old else 1
    stored = {**board, "id": number, "version": version}
    state.dashboards[board["uid"]] = {"dashboard": stored, "folderUid": body["folderUid"]}
    return 200, {"id": number, "uid": board["uid"], "status": "success", "version": version}


def _users(state: State, request: Request) -> tuple[int, object]:
    """https://grafana.com/docs/grafana/latest/developers/http_api/user/ (lookup, actual user)
    and .../http_api/admin/ (create user, password, permissions: server admins only, by basic
    auth; "the Admin HTTP API does not currently work with an API Token")."""
    method, parts, who = request.method, request.parts, request.who
    if parts == ["api", "user"] and method == "GET":
        return 200, {"id": who.id, "login": who.login, "isGrafanaAdmin": who.server_admin}
    if parts == ["api", "user", "preferences"]:
        return _preferences(state, who.preferences, request)
    if not who.server_admin:
        return DENIED
    if parts == ["api", "users", "lookup"] and method == "GET":
        login = parse_qs(request.url.query).get("loginOrEmail", [""])[0]
        user = state.users.get(login)
        if user is None:
            return 404, {"message": "user not found"}
        return 200, {"id": user.id, "login": user.login, "name": user.name,
                     "isGrafanaAdmin": user.server_admin}  # fmt: skip
    if parts == ["api", "admin", "users"] and method == "POST":
        login = request.body["login"]
        if login in state.users:
            return 412, {"message": "user already exists"}
        user_id = max(u.id for u in state.users.values()) + 1
        state.users[login] = User(user_id, login, request.body["password"], request.body["name"])
        return 200, {"id": user_id, "message": "User created"}
    if parts[:3] == ["api", "admin", "users"] and len(parts) == 5 and method == "PUT":
        user = next((u for u in state.users.values() if str(u.id) == parts[3]), None)
        if user is None:
            return 404, {"message": "user not found"}
        if parts[4] == "password":
            user.password = request.body["password"]
            return 200, {"message": "User password updated"}
        if parts[4] == "permissions":
            user.server_admin = bool(request.body["isGrafanaAdmin"])
            return 200, {"message": "User permissions updated"}
    return 404, {"message": "Not found"}


def _org(state: State, request: Request) -> tuple[int, object]:
    """https://grafana.com/docs/grafana/latest/developers/http_api/org/ (current organisation,
    its users and their roles: organisation Admins only) and .../http_api/preferences/."""
    method, parts, who = request.method, request.parts, request.who
    if not _can(who, "Admin"):
        return DENIED
    if parts == ["api", "org"] and method == "GET":
        return 200, {"id": 1, "name": "Main Org."}
    if parts == ["api", "org", "preferences"]:
        return _preferences(state, state.org_preferences, request)
    if parts == ["api", "org", "users"] and method == "GET":
        return 200, [{"orgId": 1, "userId": u.id, "login": u.login, "role": u.role}
                     for u in state.users.values()]  # fmt: skip
    if parts[:3] == ["api", "org", "users"] and len(parts) == 4 and method == "PATCH":
        user = next((u for u in state.users.values() if str(u.id) == parts[3]), None)
        if user is None:
            return 404, {"message": "user not found"}
        if request.body.get("role") not in ROLES:
            return 400, {"message": "invalid role"}
        user.role = request.body["role"]
        return 200, {"message": "Organization user updated"}
    return 404, {"message": "Not found"}


def _preferences(state: State, held: dict[str, Any], request: Request) -> tuple[int, object]:
    """GET answers every preference (unset ones empty); PATCH changes only those given, PUT
    replaces them all; a home dashboard must exist."""
    keys = ("homeDashboardUID", "theme", "timezone", "weekStart")
    if request.method == "GET":
        return 200, {key: held.get(key, "") for key in keys} | {"homeDashboardId": 0}
    if request.method in ("PATCH", "PUT"):
        home = request.body.get("homeDashboardUID")
        if home and home not in state.dashboards:
            return 404, {"message": "Dashboard not found"}
        if request.method == "PUT":
            held.clear()
        held.update({k: v for k, v in request.body.items() if k in keys})
        return 200, {"message": "Preferences updated"}
    return 404, {"message": "Not found"}


@contextmanager
def fake_grafana() -> Iterator[tuple[str, State]]:
    """(base URL, state) of a server on a free local port, for the duration of the block."""
    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
