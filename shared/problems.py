"""RFC 9457 problem details (``application/problem+json``): the one error shape of every service.

Handlers raise :class:`Problem` (or a helper such as :func:`rule_violation`); everything else that
escapes a route (validation errors, HTTP errors, concurrency conflicts, bugs) is turned into a
problem by the handlers that :func:`install_problem_handlers` adds, so a client never sees a stack
trace or FastAPI's default ``{"detail": ...}`` shape.

Every ``type`` an answer carries is one of :class:`ProblemType` (``/problems/<slug>``) or a rule of
the regulation (``/problems/rules/R-9``, docs/rules.md), and every service serves each as a page
(shared.docs_pages). They are relative references with the full path, as RFC 9457 (section 3.1.1)
recommends for relative ones: resolved against the answer's URL they reach the service that
answered, whatever host and port it is deployed under.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation
from shared.eventstore import ConcurrencyError
from shared.personal import SubjectErased

PROBLEM_JSON = "application/problem+json"
PROBLEMS_PATH = "/problems/"
RULES_PATH = PROBLEMS_PATH + "rules/"  # + rule id, e.g. /problems/rules/R-9

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


class ProblemType(Enum):
    """Every problem type but the rules': its status, what it means, what the client does."""

    VALIDATION = (
        422,
        "The request is malformed: `errors` names each field and what is wrong with it.",
        "Correct the fields named in `errors` and send the request again.",
    )
    IDEMPOTENCY_KEY = (
        422,
        "The `Idempotency-Key` header is malformed, or was used before for another request.",
        "Use a new key (visible ASCII, at most 255 characters) for a new request; repeat a key"
        " only with the same request.",
    )
    UNAUTHORIZED = (
        401,
        "No bearer token was sent, or it cannot be trusted (expired, badly signed, another"
        " issuer or audience).",
        "Sign in again and send `Authorization: Bearer <token>`; `WWW-Authenticate` says what"
        " was wrong.",
    )
    FORBIDDEN = (
        403,
        "The token is valid, but none of its roles, or not its branch, may do this.",
        "Use a token with one of the roles the route names (docs/http.md), acting for the"
        " resource's branch.",
    )
    NOT_FOUND = (
        404,
        "No such resource, or none the caller may see (another branch's is not confirmed to"
        " exist).",
        "Check the identifiers in the URL, and that the caller may see the resource.",
    )
    NOT_ARRIVED = (
        404,
        "The request needs an event another service published and this one has not received"
        " yet (a trainee whose enrolment is still on the bus).",
        "Retry after the seconds in `Retry-After` with the same `Idempotency-Key`: the retry"
        " is decided afresh.",
    )
    METHOD_NOT_ALLOWED = (
        405,
        "The route exists but does not take this HTTP method.",
        "Use one of the methods the route takes (docs/http.md).",
    )
    PRECONDITION_FAILED = (
        412,
        "`If-Match` names a version that is no longer current: the resource changed since it"
        " was read.",
        "Read the resource again (its `ETag`), decide again, and send that version in `If-Match`.",
    )
    TOO_LARGE = (
        413,
        "The request body is larger than the service accepts.",
        "Send a smaller body; the route's schema (docs/http.md) bounds every list.",
    )
    CONFLICT = (
        409,
        "The request contradicts the resource's current state (it exists already, or is closed).",
        "Read the resource's current state: the request cannot succeed as it is.",
    )
    CONCURRENCY = (
        409,
        "The resource changed concurrently while this request was being decided.",
        "Send the request again (the same `Idempotency-Key`): it is decided afresh.",
    )
    INTERNAL = (
        500,
        "The service failed unexpectedly; its log holds the cause under the answer's"
        " `X-Correlation-ID`.",
        "Retry later; if it persists, give the correlation id to the operators.",
    )
    NOT_READY = (
        503,
        "The service cannot serve yet: it is starting, or a dependency (database, broker, a"
        " worker) is down; `checks` names which.",
        "Retry later; operators read `GET /ready` and the service's log.",
    )
    NOT_ALIVE = (
        503,
        "A background task of the service (relay, consumer, projection runner) has stopped.",
        "Operators restart the service and read its log for the task's error.",
    )

    def __init__(self, status: int, summary: str, remedy: str) -> None:
        self.status = status
        self.summary = summary
        self.remedy = remedy

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def uri(self) -> str:
        return PROBLEMS_PATH + self.slug

    def __call__(self, detail: str | None = None, **kwargs: Any) -> Problem:
        """A problem of this type: ``ProblemType.NOT_FOUND("no trainee t-1")``."""
        return Problem(self.status, detail=detail, type=self.uri, **kwargs)


# A rule's page: what a violation means and what the client does (the rule's title from
# shared.docs_pages.rules).
RULE_VIOLATION_STATUS = 409
RULE_VIOLATION_SUMMARY = (
    "A rule of the regulation refused the command: `rule` names it, `detail` says how."
)
RULE_VIOLATION_REMEDY = (
    "The command can succeed only once what the rule requires holds (an approval, a sign-off,"
    " a score); read the rule in docs/rules.md."
)


def rule_uri(rule_id: str) -> str:
    return RULES_PATH + rule_id


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
        RULE_VIOLATION_STATUS,
        "Rule violated",
        detail,
        type=rule_uri(rule_id),
        rule=rule_id,
        **extensions,
    )


def not_found(detail: str) -> Problem:
    return ProblemType.NOT_FOUND(detail)


def not_arrived(detail: str, retry_after_seconds: int = 1) -> Problem:
    """404 for what an upstream event will bring but has not yet (a trainee whose enrolment is
    still on the bus). ``Retry-After`` tells clients to retry, and keeps the answer out of the
    Idempotency-Key store, so a retry with the same key decides afresh."""
    return ProblemType.NOT_ARRIVED(detail, headers={"Retry-After": str(retry_after_seconds)})


def forbidden(detail: str) -> Problem:
    return ProblemType.FORBIDDEN(detail)


def unauthorized(detail: str, *, error: str | None = "invalid_token") -> Problem:
    """401 with the RFC 6750 challenge; ``error=None`` when no credentials were sent at all."""
    challenge = 'Bearer realm="gradeline"'
    if error is not None:
        challenge += f', error="{error}"'
    return ProblemType.UNAUTHORIZED(detail, headers={"WWW-Authenticate": challenge})


def precondition_failed(
    detail: str, *, expected: int | None = None, actual: int | None = None
) -> Problem:
    """412: the ``If-Match`` version is no longer the aggregate's; the client must re-read."""
    versions = {"expected_version": expected, "current_version": actual}
    extensions: dict[str, Any] = {k: v for k, v in versions.items() if v is not None}
    return ProblemType.PRECONDITION_FAILED(detail, **extensions)


def concurrency_conflict(detail: str, *, actual: int | None = None) -> Problem:
    extensions: dict[str, Any] = {} if actual is None else {"current_version": actual}
    return ProblemType.CONCURRENCY(detail, **extensions)


def validation_failed(detail: str, errors: Sequence[Mapping[str, Any]]) -> Problem:
    return ProblemType.VALIDATION(detail, errors=errors)


def internal_error() -> Problem:
    # Deliberately says nothing about the cause: details go to the log, keyed by correlation id.
    return ProblemType.INTERNAL("An unexpected error occurred.")


_HTTP_TYPES = {
    404: ProblemType.NOT_FOUND,
    405: ProblemType.METHOD_NOT_ALLOWED,
    413: ProblemType.TOO_LARGE,
}
_UNPARSABLE_BODY = "There was an error parsing the body"  # fastapi.routing's words
# The error type of text holding U+0000, which PostgreSQL text and jsonb cannot store.
NUL_ERROR = "nul_character"


def from_http_exception(exc: StarletteHTTPException) -> Problem:
    """A Starlette/FastAPI HTTPException (unknown route, wrong method, ...) as a problem."""
    detail = exc.detail if isinstance(exc.detail, str) else None
    kind = _HTTP_TYPES.get(exc.status_code)
    # Other statuses keep RFC 9457's "about:blank": the status code says all there is to say.
    problem_type = kind.uri if kind else "about:blank"
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
    if exc.status_code == 405 and (allowed := documented_methods(request)):
        exc.headers = {**(exc.headers or {}), "Allow": allowed}
    return from_http_exception(exc).to_response()


def documented_methods(request: Request) -> str | None:
    """``Allow`` as the OpenAPI document declares the request's path (HEAD with GET), or None
    for a path it does not hold. Starlette's 405 names the methods of the first route it met
    only, where a path has several (``GET`` and ``PUT /plans/{id}``)."""
    app: FastAPI = request.app
    for template, operations in app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.url.path):
            methods = {method.upper() for method in operations}
            return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return None


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
        return ProblemType.CONFLICT(str(exc))
    raise TypeError(f"not a domain error: {exc!r}")


async def _on_subject_erased(request: Request, exc: Exception) -> Response:
    # New personal data about an erased person is refused, whatever the route (docs/privacy.md).
    return ProblemType.CONFLICT(str(exc)).to_response()


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
    app.add_exception_handler(SubjectErased, _on_subject_erased)
    for domain_error in (RuleViolation, InvalidCommand, NotFound, Forbidden, Conflict):
        app.add_exception_handler(domain_error, _on_domain_error)
    # Starlette calls the Exception handler from its outermost middleware; the request middleware
    # in shared.logging normally answers first, this covers apps built without it.
    app.add_exception_handler(Exception, _on_unhandled)
