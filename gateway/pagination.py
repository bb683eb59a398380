"""Opaque cursors for keyset pagination, and the page-size cap.

A cursor is the sort key of the last item of a page, base64url-encoded JSON: the next page
starts strictly after it, so pages stay cheap however deep a client reads (no OFFSET scans).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from gateway.errors import Invalid

MAX_LIMIT = 10_000  # what the OpenAPI document allows; gateway.max_page caps it further


def encode_cursor(*key: Any) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *kinds: type) -> tuple[Any, ...] | None:
    """The key in `cursor`, checked against `kinds` (int, str, datetime); None for no cursor."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(_convert(v, kind) for v, kind in zip(values, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(
            "cursor: not a cursor this endpoint returned (pass `next` as it came)", field="cursor"
        ) from None


def _convert(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed
    if kind is int and (type(value) is not int or abs(value) >= 2**63):
        raise ValueError("not an int")
    if kind is str and type(value) is not str:
        raise ValueError("not a str")
    return value


def page_size(requested: int, cap: int) -> int:
    return max(1, min(requested, cap))
