"""Pydantic validation errors as Problems: (file, dotted key, message), every one at once.

A document whose list entries are checked one by one (scenario effects, alert rules) validates
the top level with `depth=2`, so an entry's inside is reported once, by `validate_items`, and a
typo in one entry does not hide the problems of the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from schemas.errors import Problem

M = TypeVar("M", bound=BaseModel)


def validate_model(
    model: type[M],
    data: object,
    *,
    source: str,
    problems: list[Problem],
    format_hint: str,
    prefix: str = "",
    depth: int | None = None,
) -> M | None:
    """`data` as `model`, or None with its problems appended; `depth` keeps only errors whose
    location has at most that many parts. `format_hint` says where the format is documented."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(
            Problem(source, problem_key(prefix, e["loc"]), problem_message(e, format_hint, model))
            for e in error.errors()
            if depth is None or len(e["loc"]) <= depth
        )
        return None


def validate_items(
    document: Mapping[object, object],
    name: str,
    model: type[M],
    *,
    source: str,
    problems: list[Problem],
    format_hint: str,
) -> list[M | None]:
    """Each entry of the list `document[name]` validated on its own; None for a bad one.
    Non-mappings are left to the document's own validation, which already reported them."""
    raw = document.get(name)
    if not isinstance(raw, list):
        return []
    return [
        validate_model(
            model,
            item,
            source=source,
            problems=problems,
            format_hint=format_hint,
            prefix=f"{name}[{index}]",
        )
        if isinstance(item, dict)
        else None
        for index, item in enumerate(raw)
    ]


def problem_key(prefix: str, loc: tuple[int | str, ...]) -> str:
    """`effects[2].select.type`: list indices in brackets, mapping keys dotted."""
    key = prefix
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def problem_message(
    error: ErrorDetails, format_hint: str, model: type[BaseModel] | None = None
) -> str:
    """The message for one pydantic error; an unknown key lists the keys allowed where it is
    (found by walking `model` along the error's location) when they can be told."""
    if error["type"] == "extra_forbidden":
        allowed = [] if model is None else allowed_keys(model, error["loc"][:-1])
        if allowed:
            return f"unknown key (allowed here: {', '.join(allowed)}); {format_hint}"
        return f"unknown key (check the spelling; {format_hint})"
    if error["type"] == "missing":
        return "required key is missing"
    return error["msg"].removeprefix("Value error, ")


def allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the model found at `loc` inside `model` (as written: aliases where set), or []
    when the location leads to no model (a plain dict, a list of strings)."""
    found: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # a list index: the item's model is the list's
        field = None if found is None else found.model_fields.get(part)
        if field is None:
            return []
        found = _model_in(field.annotation)
    if found is None:
        return []
    return [field.alias or name for name, field in found.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation like `list[RuleSpec]` or `LevelsSpec | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
