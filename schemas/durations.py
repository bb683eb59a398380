"""Durations written the way engineers write them in YAML: "30s", "5m", "1h", "1d" or seconds."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_ZERO = re.compile(r"^\s*0+(\.0+)?\s*(ms|s|m|h|d)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
DURATION_REGEX = r"^\d+(\.\d+)?(ms|s|m|h|d)?$"


def parse_duration(value: object) -> float:
    """Seconds as a float; raises ValueError with the accepted forms when `value` is not one."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30s', '5m', '1h', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    else:
        raise ValueError(f"expected a duration like '30s', '5m', '1h', got {value!r}")
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return seconds


def parse_offset(value: object) -> float:
    """A duration that may also be zero: 'start: 0m' and 'hold: 0s' mean 'at once'."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    if isinstance(value, str) and _ZERO.match(value):
        return 0.0
    return parse_duration(value)


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_REGEX},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "description": "Duration: '30s', '5m', '1h', '1d' or a number of seconds.",
        }
    ),
]

# A Duration that may be zero ("stand down at once", "start at 0m"); seconds as a float.
Offset = Annotated[
    float,
    BeforeValidator(parse_offset),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_REGEX},
                {"type": "number", "minimum": 0},
            ],
            "description": "Duration or 0: '0s', '30s', '5m', '1h' or a number of seconds.",
        }
    ),
]
