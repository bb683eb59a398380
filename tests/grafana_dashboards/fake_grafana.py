"""A small HTTP server with the few Grafana API endpoints `cityvitals grafana push` uses.

Folders (GET/POST /api/folders, PUT /api/folders/{uid}) and dashboards (GET
/api/dashboards/uid/{uid}, POST /api/dashboards/db), with Grafana's answers: 404 for what is not
there, 401 without valid credentials, 412 when a dashboard exists and `overwrite` is not set,
and `id` / `version` added to what is stored. Every request is logged as (method, path).
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


@dataclass
class State:
    token: str = "secret-token"
    basic: tuple[str, str] = ("admin", "admin")
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


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

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if header == f"Bearer {state.token}":
                return True
            expected = base64.b64encode(":".join(state.basic).encode()).decode()
            return header == f"Basic {expected}"

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self, method: str) -> None:
            body = self._body() if method in ("POST", "PUT") else None
            with state.lock:
                state.requests.append((method, self.path))
                if not self._authorized():
                    self._reply(401, {"message": "Unauthorized"})
                    return
                status, answer = _route(state, method, self.path.split("?")[0], body)
            self._reply(status, answer)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


def _route(state: State, method: str, path: str, body: Any) -> tuple[int, object]:
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "folders"]:
        return _folders(state, method, parts[2] if len(parts) > 2 else None, body)
    if method == "GET" and parts[:3] == ["api", "dashboards", "uid"] and len(parts) == 4:
        found = state.dashboards.get(parts[3])
        if found is None:
            return 404, {"message": "Dashboard not found"}
        return 200, {"dashboard": found["dashboard"], "meta": {"folderUid": found["folderUid"]}}
    if method == "POST" and parts == ["api", "dashboards", "db"]:
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
