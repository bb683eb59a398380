"""Gateway errors: each is an HTTP answer with a stable code and a sentence naming the field.

Hierarchy::

    ApiError (a starlette HTTPException: status, code, detail, field, problems)
    ├── Unauthenticated   401  no key, an unknown or revoked key
    ├── Forbidden         403  the key's role may not do this
    ├── NotFound          404  no such sensor, type, alert, silence, dead letter or key
    ├── Conflict          409  the state forbids it (a closed alert, a type owned by a file)
    ├── PayloadTooLarge   413  the request body is over gateway.max_request_bytes
    ├── Invalid           422  input that cannot be used; `field` names it, `problems` lists all
    ├── TooBusy           429  too many exports or live streams at once; try again shortly
    └── Unavailable       503  the database (or broker) cannot be reached; retry later

Errors of other packages are converted where they reach the API, in `gateway.handlers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException


@dataclass(frozen=True)
class ProblemDetail:
    """One thing wrong with the input: the field, a stable reason code, a sentence."""

    field: str | None
    reason: str
    detail: str


class ApiError(HTTPException):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        problems: list[ProblemDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(self.status, detail, headers)
        self.field = field
        self.code = code or type(self).code
        self.problems = problems or []


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Invalid(ApiError):
    status, code = 422, "invalid"


class TooBusy(ApiError):
    status, code = 429, "too_busy"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class Unavailable(ApiError):
    status, code = 503, "unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})
