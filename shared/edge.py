"""The first layer every HTTP request crosses: correlation id, limits, access log, metrics, 500s.

One pure-ASGI middleware instead of a stack of four: each layer of a stack wraps ``send`` (and
often ``receive``) in closures of its own and tracks the same status, on every request; together
they were a measurable share of a simple command's CPU (bench/profile_notes.md). In order:

1. a URL carrying an encoded NUL (``%00``) is refused with a 422 naming ``url`` (PostgreSQL text
   cannot store U+0000, so it would surface as a 500 deeper in);
2. a body over ``max_body_bytes`` gets a 413 problem, by ``Content-Length`` up front or by the
   bytes actually received (chunked bodies carry no length);
3. the caller's ``X-Correlation-ID`` is adopted (or one is made), bound to every log line and to
   the events the request appends (:func:`shared.logging.current_correlation_id`), and echoed in
   the response, errors included;
4. an unhandled exception is logged and answered with the last-resort 500 problem (unless the
   response had started: then the server drops the connection);
5. one access log line and one observation of ``gradeline_http_request_duration_seconds``
   (labelled by route template, so that ids in paths do not multiply series).
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import CORRELATION_HEADER, correlation_scope
from shared.metrics import Metrics
from shared.problems import NUL_ERROR, from_http_exception, internal_error, validation_failed

log = structlog.get_logger("gradeline.http")

_CORRELATION_HEADER = CORRELATION_HEADER.lower().encode()


class BodyTooLarge(StarletteHTTPException):
    # An HTTPException so that FastAPI, reading the body inside a route, re-raises it as is.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds {limit} bytes")


_NUL_IN_URL = validation_failed(
    "Invalid request: the URL holds a NUL character (%00)",
    [{"field": "url", "message": "may not contain the NUL character (%00)", "type": NUL_ERROR}],
)


class EdgeMiddleware:
    """See the module docstring; ``metrics`` receives each request's duration."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        correlation_id, content_length = _read_headers(scope)
        header = (_CORRELATION_HEADER, str(correlation_id).encode())
        status = 500
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        with correlation_scope(correlation_id):
            try:
                if b"%00" in scope.get("query_string", b"") or b"%00" in scope.get("raw_path", b""):
                    await _NUL_IN_URL.to_response()(scope, receive, edge_send)
                elif content_length > limit:
                    await from_http_exception(BodyTooLarge(limit)).to_response()(
                        scope, receive, edge_send
                    )
                else:
                    await self.app(scope, limited_receive, edge_send)
            except BodyTooLarge as exc:
                if started:
                    raise
                await from_http_exception(exc).to_response()(scope, receive, edge_send)
            except Exception:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if started:
                    raise  # the client already has a partial answer; let the server drop it
                await internal_error().to_response()(scope, receive, edge_send)
            finally:
                self._record(scope, status, time.perf_counter() - began)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        # The router fills scope["route"] in place; unmatched paths share one label.
        route = getattr(scope.get("route"), "path", None)
        self.metrics.observe_request(scope["method"], route or "unmatched", status, seconds)
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )


def _read_headers(scope: Scope) -> tuple[uuid.UUID, int]:
    """The caller's correlation id (or a new one) and the declared body length (0 if none)."""
    correlation_id: uuid.UUID | None = None
    content_length = 0
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            content_length = int(value) if value.isdigit() else 0
        elif name == _CORRELATION_HEADER:
            try:
                correlation_id = uuid.UUID(value.decode("latin-1").strip())
            except ValueError:
                correlation_id = None  # events store a UUID; a foreign format gets a fresh id
    return correlation_id or uuid.uuid4(), content_length
