"""The ops console's files: its own pages and scripts, and an allow-list of vendor files.

The console has no build step. Its own files (`gateway/console/static/`) are served as they are;
the front-end packages (ECharts, Swagger UI) come from the npm registry at `make setup`
(`npm ci` in `gateway/console/`, pinned by its package-lock.json) into `node_modules/`, of which
only the files named in VENDOR are served: never a listing, never another file of a package.
When the packages are missing (no `make setup` yet) the gateway still serves the API; the
console and /docs answer 503 naming the command that installs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONSOLE_DIR = Path(__file__).parent / "console"
STATIC_DIR = CONSOLE_DIR / "static"
PACKAGES_DIR = CONSOLE_DIR / "node_modules"
SETUP_HINT = "run `make setup` (it runs `npm ci` in gateway/console/)"

# URL name -> the file inside node_modules. Only these are served.
VENDOR: dict[str, str] = {
    "echarts.esm.min.mjs": "echarts/dist/echarts.esm.min.mjs",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-favicon.png": "swagger-ui-dist/favicon-32x32.png",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class ConsoleFiles:
    """Where the console's files are, resolved once at start (tests point `packages` at an
    empty folder to see the 503)."""

    static: dict[str, Path]  # URL path under /console/assets/ -> file
    packages: Path

    @classmethod
    def found(cls, static_dir: Path = STATIC_DIR, packages: Path = PACKAGES_DIR) -> ConsoleFiles:
        static = {
            p.relative_to(static_dir).as_posix(): p
            for p in sorted(static_dir.rglob("*"))
            if p.is_file() and p.suffix in MEDIA_TYPES
        }
        return cls(static, packages)

    def vendor(self, name: str) -> Path | None:
        """The vendor file served as `name`, or None when `name` is not on the allow-list."""
        inside = VENDOR.get(name)
        return None if inside is None else self.packages / inside

    def missing_packages(self) -> list[str]:
        """The allow-listed vendor files that are not installed."""
        return [name for name in VENDOR if not (self.packages / VENDOR[name]).is_file()]


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix, "application/octet-stream")
