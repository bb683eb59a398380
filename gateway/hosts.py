"""Which Host headers the gateway answers (gateway.trusted_hosts).

Starlette's TrustedHostMiddleware with two differences: the refusal is the API's error shape,
naming the header, and /healthz and /readyz answer any Host, because orchestrators probe by
address (Kubernetes sends the pod's IP) and neither answer depends on the Host. Patterns are
Starlette's: a name, or "*.example.org" for its subdomains.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PROBES = frozenset({"/healthz", "/readyz"})


def hostname(header: str) -> str:
    """The host of a Host header, lower case, without its port ("[::1]:8080" -> "::1")."""
    if header.startswith("["):
        return header[1 : header.find("]")].lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


def trusted(host: str, patterns: Sequence[str]) -> bool:
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns)


class TrustedHostsMiddleware:
    def __init__(self, app: ASGIApp, patterns: Sequence[str]) -> None:
        self.app = app
        self.patterns = [p.lower() for p in patterns]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host", "")
        if trusted(hostname(header), self.patterns):
            await self.app(scope, receive, send)
            return
        body = {
            "error": "bad_request",
            "detail": f"Host: {header[:100]!r} is not a name this gateway serves "
            "(gateway.trusted_hosts)",
            "field": "Host",
            "problems": [],
        }
        await JSONResponse(body, status_code=400)(scope, receive, send)
