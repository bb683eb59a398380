"""Every error becomes an `ErrorBody` with a 4xx (or 503) status: never a bare 500.

Errors of other packages are converted here, where they reach the API: an alert that does not
exist is 404, an action its state forbids 409, input the registry or a silence refuses 422, a
database that cannot be reached (or a pool whose connections all stay in use) 503, a query the
database cancelled for running too long 422 (narrow it), a value PostgreSQL refuses 422 naming
the field that held it. No answer carries the database's own words (they name tables, types and
query arguments): those go to the log. An error nothing here expected is a 500 in the same
shape, and uvicorn logs its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from alerts.errors import (
    AlertActionError,
    AlertNotFound,
    AlertStateError,
    AlertStillFiring,
    SilenceError,
)
from gateway.errors import ApiError, ProblemDetail
from schemas.errors import SchemaError
from storage.errors import (
    DatabaseUnavailable,
    PoolExhausted,
    StorageError,
    WriteRejected,
    is_transient,
)

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}
_CODES |= {405: "method_not_allowed", 406: "not_acceptable", 415: "unsupported_media_type"}


def error_response(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    problems: list[ProblemDetail] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "error": code,
        "detail": detail,
        "field": field,
        "problems": [p.__dict__ for p in problems or []],
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if isinstance(error, ApiError):
        return error_response(
            error.status_code,
            error.code,
            str(error.detail),
            field=error.field,
            problems=error.problems,
            headers=error.headers,
        )
    if error.status_code == 400:  # FastAPI: a body it could not decode as JSON
        return error_response(422, "invalid", f"body: {error.detail}", field="body")
    code = _CODES.get(error.status_code, "error")
    return error_response(error.status_code, code, str(error.detail), headers=error.headers)


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        # ("query", "limit") -> "limit"; ("body", "matchers", 0) -> "matchers.0"
        field = ".".join(loc[1:] if loc and loc[0] in ("query", "path", "body", "header") else loc)
        message = str(item.get("msg", "invalid value"))
        problems.append(ProblemDetail(field or None, "invalid", f"{field or 'request'}: {message}"))
    first = problems[0] if problems else ProblemDetail(None, "invalid", "invalid request")
    return error_response(422, "invalid", first.detail, field=first.field, problems=problems)


def _unavailable(detail: str) -> JSONResponse:
    return error_response(503, "unavailable", detail, headers={"Retry-After": "5"})


async def _storage(request: Request, error: Exception) -> JSONResponse:
    cause = error.__cause__ or error
    if isinstance(cause, asyncpg.exceptions.QueryCanceledError):
        return _too_expensive()
    if isinstance(error, WriteRejected) or isinstance(cause, asyncpg.exceptions.DataError):
        return await _refused(request, error)
    if isinstance(error, PoolExhausted):
        log.warning("%s %s: %s", request.method, request.url.path, error)
        return _unavailable(
            "the gateway is busy: every database connection stayed in use; retry shortly"
        )
    if isinstance(error, DatabaseUnavailable):
        log.warning("%s %s: %s", request.method, request.url.path, error)
        return _unavailable("the database is unavailable; retry later")
    log.error("database error on %s %s: %s", request.method, request.url.path, error)
    return _unavailable("the database could not answer; retry later")


async def _postgres(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, asyncpg.exceptions.QueryCanceledError):
        return _too_expensive()
    if isinstance(error, asyncpg.exceptions.DataError):
        return await _refused(request, error)
    if is_transient(error):
        log.warning("%s %s: %r", request.method, request.url.path, error)
        return _unavailable("the database is unavailable; retry later")
    log.error("database error on %s %s: %r", request.method, request.url.path, error)
    return _unavailable("the database could not answer; retry later")


async def _refused(request: Request, error: Exception) -> JSONResponse:
    """A value the database would not take: 422 naming the field that held it.

    The gateway checks what it can where input enters; what reaches the database anyway is
    found here, on the error path only: text holding NUL (U+0000, which PostgreSQL text cannot
    hold) or a time that falls off the calendar once turned to UTC. When no field explains it,
    the answer says so without the database's words, and the log keeps them.
    """
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, error)
    for field, value in _inputs(request):
        reason = _unstorable(value)
        if reason is not None:
            return error_response(422, "invalid", f"{field}: {reason}", field=field)
    return error_response(
        422, "rejected", "request: a value in it is out of what the database can store"
    )


def _inputs(request: Request) -> Iterator[tuple[str, Any]]:
    """(field, value) of every path and query parameter and every value of a JSON body."""
    yield from request.path_params.items()
    yield from request.query_params.multi_items()
    # Only a body the endpoint already read (Starlette keeps it on the request): reading one
    # here could wait on a stream that was consumed.
    body = getattr(request, "_body", None)
    if not body or "json" not in request.headers.get("content-type", ""):
        return
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    stack: list[tuple[str, Any]] = [("", document)]  # a loop, not recursion: bodies nest deep
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(value)]
        else:
            yield path or "body", value


def _unstorable(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "contains a NUL character (U+0000), which no text may hold"
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
    except ValueError:
        return None
    except OverflowError:
        return "this time is beyond the calendar's end in UTC"
    return None


async def _internal(request: Request, error: Exception) -> JSONResponse:
    # Starlette's ServerErrorMiddleware calls this, then re-raises for uvicorn to log it.
    return error_response(500, "internal", "the gateway failed on this request; it is logged")


def _too_expensive() -> JSONResponse:
    return error_response(
        422,
        "query_too_expensive",
        "the query ran past gateway.statement_timeout: narrow the range, widen the bucket or "
        "pick fewer sensors",
    )


async def _alerts(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, AlertNotFound):
        return error_response(404, "not_found", str(error), field="fingerprint")
    if isinstance(error, AlertStillFiring):
        return error_response(409, "still_firing", str(error), field="confirm_firing")
    if isinstance(error, AlertStateError):
        return error_response(409, "conflict", str(error))
    if isinstance(error, SilenceError):
        return error_response(422, "invalid", str(error), field="matchers")
    field = error.field if isinstance(error, AlertActionError) else None
    return error_response(422, "invalid", str(error), field=field)


async def _schema(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SchemaError)
    problems = [ProblemDetail(p.key or None, "invalid", str(p)) for p in error.problems]
    first = problems[0]
    return error_response(422, "invalid", first.detail, field=first.field, problems=problems)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StorageError, _storage)
    app.add_exception_handler(asyncpg.exceptions.PostgresError, _postgres)
    app.add_exception_handler(asyncpg.exceptions.InterfaceError, _postgres)
    app.add_exception_handler(OSError, _postgres)
    for kind in (AlertNotFound, AlertStateError, AlertActionError, SilenceError):
        app.add_exception_handler(kind, _alerts)
    app.add_exception_handler(SchemaError, _schema)
    app.add_exception_handler(Exception, _internal)
