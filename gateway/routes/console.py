"""The ops console: its pages, its own files and the allow-listed vendor files.

Every console page is the one index page (the browser's router draws the page for the path), so
only the paths of pages that exist are answered: the others are 404, not an empty page.
Files come from a prefix of their own, /console/assets/ (vendor files under assets/vendor/).
The key never travels in a URL: the pages read it from the browser's session and send it as a
header, so these routes need no key (they hold no data).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from gateway.console_files import SETUP_HINT, ConsoleFiles, media_type
from gateway.errors import NotFound, Unavailable
from gateway.state import get_state

router = APIRouter(prefix="/console", include_in_schema=False)
# The page paths under /console/ the console draws today, as patterns of the path without its
# slashes at either end (one alert's page: re.compile(r"alerts/[^/]+")); js/router.js's
# ROUTES draws them: the wall; the duty list and one alert; the sensors and one sensor; the
# dead letters.
PAGES: tuple[re.Pattern[str], ...] = (
    re.compile(r""),
    re.compile(r"alerts"),
    re.compile(r"alerts/[^/]+"),
    re.compile(r"sensors(/[^/]+)?"),
    re.compile(r"dead-letters"),
)
# Our own files change with the code: the browser asks again each time (a 304 when unchanged).
# Vendor files change only with package-lock.json.
OWN_CACHE = "no-cache"
VENDOR_CACHE = "public, max-age=86400"
# The browser itself refuses anything from another origin: no CDN, no beacon, no frame of us.
# Inline styles stay allowed: ECharts positions its tooltips with them.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def console_files(request: Request) -> ConsoleFiles:
    files: ConsoleFiles | None = getattr(request.app.state, "console_files", None)
    if files is None:  # built on first use, per app (tests run apps side by side)
        files = ConsoleFiles.found(packages=get_state(request).config.console_packages)
        request.app.state.console_files = files
    return files


def installed(files: ConsoleFiles) -> None:
    missing = files.missing_packages()
    if missing:
        raise Unavailable(
            f"console: the front-end packages are not installed ({', '.join(missing)} missing "
            f"under {files.packages}): {SETUP_HINT}",
            retry_after_s=60,
        )


def _file(path: Path, cache: str) -> FileResponse:
    return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": cache})


@router.get("")
async def bare() -> Response:
    # A path without a host: the redirect cannot be steered elsewhere by a Host header.
    return RedirectResponse("/console/", status_code=308)


@router.get("/assets/vendor/{name}")
async def vendor(request: Request, name: str) -> FileResponse:
    files = console_files(request)
    path = files.vendor(name)
    if path is None:
        raise NotFound(f"console: no vendor file {name!r}", field="name")
    installed(files)
    return _file(path, VENDOR_CACHE)


@router.get("/assets/{name:path}")
async def asset(request: Request, name: str) -> FileResponse:
    path = console_files(request).static.get(name)
    if path is None:
        raise NotFound(f"console: no file {name!r}", field="name")
    return _file(path, OWN_CACHE)


@router.get("/{page:path}")
async def page(request: Request, page: str) -> FileResponse:
    if not any(pattern.fullmatch(page.strip("/")) for pattern in PAGES):
        raise NotFound(f"console: no page /console/{page}", field="path")
    files = console_files(request)
    installed(files)
    answer = _file(files.static["index.html"], OWN_CACHE)
    answer.headers["Content-Security-Policy"] = PAGE_POLICY
    answer.headers["Referrer-Policy"] = "no-referrer"
    return answer
