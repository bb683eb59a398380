"""Check dashboard JSON against Grafana's dashboard model as the foundation SDK types it.

The SDK's `from_json` is lenient (it keeps what it knows and drops the rest), so validation is
two checks on the decoded model:

1. round trip: encoding the decoded dashboard must give back exactly the input - a key the model
   does not know (a typo, a field of another panel type) is dropped and shows up as a
   difference, a required field left out comes back with its default;
2. types: every attribute of every model object must match its annotation (strings, numbers,
   booleans, enums by value, lists, maps, nested models, unions).

Panel options and field config decode into the panel type's own models (timeseries, stat,
geomap, ...), and PostgreSQL targets into `grafana_dashboards.sql_target.SqlQuery`.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from grafana_dashboards import sql_target

_HINTS: dict[type, dict[str, Any]] = {}


def _register() -> None:
    plugins.register_default_plugins()
    sql_target.register()


def validate(board: dict[str, Any]) -> list[str]:
    """Problems found in one dashboard JSON, each with its JSON path; empty when valid."""
    _register()
    model = Dashboard.from_json(board)
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    problems = _differences(board, again, "$")
    problems += _type_problems(model, "$")
    for panel in model.panels or []:
        for target in getattr(panel, "targets", None) or []:
            if not isinstance(target, sql_target.SqlQuery):
                problems.append(f"{panel.title}: a target that is not a PostgreSQL query")
    return problems


def _differences(given: Any, encoded: Any, path: str) -> list[str]:
    if isinstance(given, dict) and isinstance(encoded, dict):
        out = [f"{path}.{k}: not in Grafana's model (dropped)" for k in given if k not in encoded]
        out += [f"{path}.{k}: required, missing" for k in encoded if k not in given]
        for key in given.keys() & encoded.keys():
            out += _differences(given[key], encoded[key], f"{path}.{key}")
        return out
    if isinstance(given, list) and isinstance(encoded, list) and len(given) == len(encoded):
        return [m for i, (a, b) in enumerate(zip(given, encoded, strict=True))
                for m in _differences(a, b, f"{path}[{i}]")]  # fmt: skip
    if given != encoded or type(given) is not type(encoded):
        return [f"{path}: {given!r} comes back as {encoded!r}"]
    return []


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        module = __import__(cls.__module__, fromlist=["_"])
        _HINTS[cls] = typing.get_type_hints(cls, vars(module))
    return _HINTS[cls]


def _is_model(value: object) -> bool:
    return callable(getattr(value, "to_json", None)) and hasattr(value, "__dict__")


def _is_model_class(cls: type) -> bool:
    return callable(getattr(cls, "from_json", None))


def _type_problems(obj: object, path: str) -> list[str]:
    hints = _hints(type(obj))
    out: list[str] = []
    for name, value in vars(obj).items():
        if name in hints:
            out += _check(value, hints[name], f"{path}.{name}")
    return out


def _check(value: object, hint: Any, path: str) -> list[str]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return _type_problems(value, path) if _is_model(value) else []
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return [] if type(None) in args else [f"{path}: must not be null"]
        options = [arg for arg in args if arg is not type(None)]
        models = [a for a in options if isinstance(a, type) and _is_model_class(a)]
        exact = [a for a in models if isinstance(value, a)]
        if exact:  # a model union (Panel | RowPanel): the value's own class decides
            return _check(value, exact[0], path)
        tries = [_check(value, arg, path) for arg in options]
        if any(not t for t in tries):
            return []
        return min(tries, key=len)  # the closest match says best what is wrong
    if hint is type(None):
        return [] if value is None else [f"{path}: expected null, got {value!r}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [p for i, item in enumerate(value) for p in _check(item, args[0], f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {value!r}"]
        return [p for k, item in value.items() for p in _check(item, args[1], f"{path}.{k}")]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = {member.value for member in hint}
        return [] if value in allowed else [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if hint in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and hint is int and isinstance(value, float) and not value.is_integer():
            ok = False
        return [] if ok else [f"{path}: expected a {hint.__name__}, got {value!r}"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    if isinstance(hint, type):
        if not isinstance(value, hint):
            return [f"{path}: expected {hint.__name__}, got {type(value).__name__}"]
        return _type_problems(value, path)
    return []
