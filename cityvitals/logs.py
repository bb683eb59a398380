"""Logging set-up: readable lines for people, or one JSON object per line for log collectors.

No line carries an API key: a key sent where it does not belong (the query string, which
uvicorn's access log writes whole) is redacted to its public id on every line, and so are
the values of query parameters named like credentials.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
from datetime import UTC, datetime
from pathlib import Path

# Attributes every LogRecord has; anything else was passed with `extra=` and is worth keeping.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


# cvk_<id>_<secret> (gateway.keys): the id stays, it is public and says whose key leaked.
_KEY = re.compile(r"\b(cvk_[0-9a-f]{12}_)[A-Za-z0-9_-]+")
# Query strings are split rather than matched with one pattern over parameter names: the text
# is the client's, and a pattern with two open-ended runs backtracks quadratically on a long
# name (a stalled event loop per log line).
_QUERY = re.compile(r"\?[^\s\"']+")
_CREDENTIAL_NAMES = ("key", "token", "secret", "passw", "auth")
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with API keys and credential-like query parameters redacted."""
    if "cvk_" in text:
        text = _KEY.sub(rf"\g<1>{REDACTED}", text)
    return _QUERY.sub(_redact_query, text) if "?" in text else text


def _redact_query(match: re.Match[str]) -> str:
    params = match.group(0)[1:].split("&")
    for index, param in enumerate(params):
        name, equals, value = param.partition("=")
        if value.endswith(REDACTED):  # a key of ours, its id kept by the pattern above
            continue
        if equals and value and any(word in name.lower() for word in _CREDENTIAL_NAMES):
            params[index] = f"{name}={REDACTED}"
    return "?" + "&".join(params)


class RedactSecrets(logging.Filter):
    """On the handler, so every logger's records pass it (uvicorn's access log included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        entry.update({k: redact(v) if isinstance(v, str) else v for k, v in extra.items()})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The demo's log file: rotated so a demo left running for weeks keeps its disk.
DEMO_LOG_BYTES = 20 * 1024 * 1024
DEMO_LOG_BACKUPS = 3


def configure_demo_logging(log_path: Path) -> None:
    """The demo's terminal is for people: its summary and the duty officer's messages (printed,
    not logged) and warnings. Everything else, access logs and INFO chatter included, goes to
    `log_path` (rotated at DEMO_LOG_BYTES, DEMO_LOG_BACKUPS kept)."""
    to_file = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=DEMO_LOG_BYTES, backupCount=DEMO_LOG_BACKUPS, encoding="utf-8"
    )
    to_file.setFormatter(logging.Formatter(_TEXT_FORMAT))
    to_terminal = logging.StreamHandler()
    to_terminal.setLevel(logging.WARNING)
    to_terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for handler in (to_file, to_terminal):
        handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [to_file, to_terminal]
    root.setLevel(logging.INFO)


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
