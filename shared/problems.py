"""RFC 9457 problem details (``application/problem+json``): the one error shape of every service.

Handlers raise :class:`Problem` (or a helper such as :func:`rule_violation`); everything else that
escapes a route (validation errors, HTTP errors, concurrency conflicts, bugs) is turned into a
problem by the handlers that :func:`install_problem_handlers` adds, so a client never sees a stack
trace or FastAPI's default ``{"detail": ...}`` shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation
from shared.eventstore import ConcurrencyError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE_URI = "https://gradeline.example"
RULES_URI = f"{PROBLEM_BASE_URI}/rules/"  # + rule id, e.g. .../rules/R-9
PROBLEMS_URI = f"{PROBLEM_BASE_URI}/problems/"  # + slug of a mechanism problem

log = structlog.get_logger(__name__)


class Problem(Exception):
    """An error answered as problem+json. ``extensions`` become extra members of the body."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = "about:blank",
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.type = type
        self.errors = [dict(e) for e in errors] if errors else []
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(f"{status} {self.title}: {detail or ''}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body

    def to_response(self) -> Response:
        return Response(
            orjson.dumps(self.body(), default=str),
            status_code=self.status,
            headers=self.headers,
            media_type=PROBLEM_JSON,
        )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_CAUSES = {
    401: "no token, or one that cannot be trusted",
    403: "the token's roles or branch may not do this",
    404: "no such resource, or not one the caller may see",
    409: "a business rule (the rule id in type) or a concurrent change refused it",
    412: "If-Match names a version that is no longer current",
    413: "the body is too large",
    422: "the request is malformed; errors names each field",
}
# Declared on every route (shared.api), so the OpenAPI tells clients the error shape truthfully.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": cause, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    for status, cause in _PROBLEM_CAUSES.items()
}


def rule_violation(rule_id: str, detail: str, **extensions: Any) -> Problem:
    """409: a business rule refused the command; the rule id is in ``type`` and ``rule``."""
    return Problem(
        409, "Rule violated", detail, type=RULES_URI + rule_id, rule=rule_id, **extensions
    )


def not_found(detail: str) -> Problem:
    return Problem(404, detail=detail, type=PROBLEMS_URI + "not-found")


def not_arrived(detail: str, retry_after_seconds: int = 1) -> Problem:
    """404 for what an upstream event will bring but has not yet (a trainee whose enrolment is
    still on the bus). ``Retry-After`` tells clients to retry, and keeps the answer out of the
    Idempotency-Key store, so a retry with the same key decides afresh."""
    return Problem(
        404, detail=detail, type=PROBLEMS_URI + "not-arrived",
        headers={"Retry-After": str(retry_after_seconds)},
    )  # fmt: skip


def forbidden(detail: str) -> Problem:
    return Problem(403, detail=detail, type=PROBLEMS_URI + "forbidden")


def unauthorized(detail: str, *, error: str | None = "invalid_token") -> Problem:
    """401 with the RFC 6750 challenge; ``error=None`` when no credentials were sent at all."""
    challenge = 'Bearer realm="gradeline"'
    if error is not None:
        challenge += f', error="{error}"'
    return Problem(
        401,
        detail=detail,
        type=PROBLEMS_URI + "unauthorized",
        headers={"WWW-Authenticate": challenge},
    )


def precondition_failed(
    detail: str, *, expected: int | None = None, actual: int | None = None
) -> Problem:
    """412: the ``If-Match`` version is no longer the aggregate's; the client must re-read."""
    versions = {"expected_version": expected, "current_version": actual}
    extensions: dict[str, Any] = {k: v for k, v in versions.items() if v is not None}
    return Problem(412, detail=detail, type=PROBLEMS_URI + "precondition-failed", **extensions)


def concurrency_conflict(detail: str, *, actual: int | None = None) -> Problem:
    extensions: dict[str, Any] = {} if actual is None else {"current_version": actual}
    return Problem(409, "Conflict", detail, type=PROBLEMS_URI + "concurrency", **extensions)


def validation_failed(detail: str, errors: Sequence[Mapping[str, Any]]) -> Problem:
    return Problem(422, detail=detail, type=PROBLEMS_URI + "validation", errors=errors)


def internal_error() -> Problem:
    # Deliberately says nothing about the cause: details go to the log, keyed by correlation id.
    return Problem(500, detail="An unexpected error occurred.", type=PROBLEMS_URI + "internal")


_HTTP_TYPES = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}
_UNPARSABLE_BODY = "There was an error parsing the body"  # fastapi.routing's words
# The error type of text holding U+0000, which PostgreSQL text and jsonb cannot store.
NUL_ERROR = "nul_character"


def from_http_exception(exc: StarletteHTTPException) -> Problem:
    """A Starlette/FastAPI HTTPException (unknown route, wrong method, ...) as a problem."""
    detail = exc.detail if isinstance(exc.detail, str) else None
    slug = _HTTP_TYPES.get(exc.status_code)
    problem_type = PROBLEMS_URI + slug if slug else "about:blank"
    return Problem(exc.status_code, detail=detail, type=problem_type, headers=exc.headers)


def field_name(loc: Sequence[Any]) -> str:
    """A pydantic error location as a dotted name (``("body", "stages", 0, "no")`` ->
    ``body.stages.0.no``)."""
    return ".".join(str(part) for part in loc)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            # FastAPI puts the character offset in loc; what is wrong is the body as a whole.
            message, kind, loc = "Request body is not valid JSON", "json_invalid", ("body",)
        elif error.get("type") == NUL_ERROR:
            # Raised for the whole body (shared.requests.RequestBody): the path is in ctx.
            message, kind = str(error.get("msg", "")), NUL_ERROR
            loc = (*loc, *error.get("ctx", {}).get("path", ()))
        else:
            message, kind = str(error.get("msg", "")), str(error.get("type", ""))
        errors.append({"field": field_name(loc), "message": message, "type": kind})
    return errors


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.to_response()


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return validation_failed(f"Invalid request: {fields}", errors).to_response()


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        # FastAPI's answer to a body that is not UTF-8: the same 422 as any other bad JSON.
        error = {
            "field": "body",
            "message": "Request body is not UTF-8 JSON",
            "type": "json_invalid",
        }
        return validation_failed("Invalid request: body", [error]).to_response()
    return from_http_exception(exc).to_response()


async def _on_concurrency(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConcurrencyError)
    # A client that sent If-Match asked for a precondition (412); without one the handler should
    # have re-decided, so a conflict that still escapes is a plain 409 the client may retry.
    if request.headers.get("if-match") is not None:
        problem = precondition_failed(
            f"{exc.stream_id} is at version {exc.actual}, not the one in If-Match",
            expected=exc.expected,
            actual=exc.actual,
        )
    else:
        problem = concurrency_conflict(
            f"{exc.stream_id} changed concurrently; retry the request", actual=exc.actual
        )
    return problem.to_response()


def from_domain_error(exc: Exception) -> Problem:
    """A decider's refusal (shared.decider) as the contract's status and problem type."""
    if isinstance(exc, RuleViolation):
        return rule_violation(exc.rule, exc.detail)
    if isinstance(exc, InvalidCommand):
        # One spelling of field paths, pydantic's: body.stages.1.no (not stages[1].no).
        field = "body." + re.sub(r"\[(\d+)\]", r".\1", exc.field)
        error: dict[str, Any] = {"field": field, "message": exc.detail, "type": "domain"}
        if exc.rule:
            error["rule"] = exc.rule
        return validation_failed(f"Invalid request: {field}: {exc.detail}", [error])
    if isinstance(exc, NotFound):
        return not_found(str(exc) or "not found")
    if isinstance(exc, Forbidden):
        return forbidden(str(exc) or "forbidden")
    if isinstance(exc, Conflict):
        return Problem(409, "Conflict", str(exc), type=PROBLEMS_URI + "conflict")
    raise TypeError(f"not a domain error: {exc!r}")


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    return from_domain_error(exc).to_response()


async def _on_unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", method=request.method, path=request.url.path)
    return internal_error().to_response()


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error class the services raise to a problem+json response."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(ConcurrencyError, _on_concurrency)
    for domain_error in (RuleViolation, InvalidCommand, NotFound, Forbidden, Conflict):
        app.add_exception_handler(domain_error, _on_domain_error)
    # Starlette calls the Exception handler from its outermost middleware; the request middleware
    # in shared.logging normally answers first, this covers apps built without it.
    app.add_exception_handler(Exception, _on_unhandled)
