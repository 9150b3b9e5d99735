"""Structured JSON logs on stdout, with the correlation id of the request (or message) at hand.

:class:`RequestContextMiddleware` is the outermost of a service's middleware: it adopts the
caller's ``X-Correlation-ID`` (or makes one), binds it to every log line and to the events the
request appends (:func:`current_correlation_id`), echoes it in the response, writes one access
line per request, and turns an unhandled exception into a logged 500 problem, so even that answer
carries the correlation id.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import internal_error

CORRELATION_HEADER = "X-Correlation-ID"
_HANDLER_NAME = "gradeline-json"

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar("gradeline_correlation_id", default=None)

log = structlog.get_logger("gradeline.http")


def _render_json(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


# Tracebacks as structured frames, without each frame's local variables: those hold bearer
# tokens, request bodies and personal data, and made one error a megabyte of log.
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def configure_logging(level: str | int = "INFO") -> None:
    """JSON lines on stdout for structlog and the standard library (uvicorn, aio-pika, asyncpg)."""
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            _TRACEBACKS,
            structlog.processors.JSONRenderer(serializer=_render_json),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,  # tests and `--role` switches may reconfigure
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _TRACEBACKS,
                structlog.processors.JSONRenderer(serializer=_render_json),
            ],
        )
    )
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler: others (pytest's capture, a host's) stay attached.
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)


def current_correlation_id() -> uuid.UUID:
    """The correlation id of the work in progress; outside a request, a new one for this context."""
    value = _correlation_id.get()
    if value is None:
        value = uuid.uuid4()
        bind_correlation_id(value)
    return value


def bind_correlation_id(value: uuid.UUID) -> None:
    """Adopt ``value`` for this context (a consumer does so with the message's correlation id)."""
    _correlation_id.set(value)
    structlog.contextvars.bind_contextvars(correlation_id=str(value))


def _incoming_correlation_id(scope: Scope) -> uuid.UUID | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-correlation-id":
            try:
                return uuid.UUID(value.decode("latin-1").strip())
            except ValueError:
                return None  # events store a UUID; a foreign format gets a fresh id instead
    return None


class RequestContextMiddleware:
    """Correlation id, one access log line, and the last-resort 500 problem (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _incoming_correlation_id(scope) or uuid.uuid4()
        token = _correlation_id.set(correlation_id)
        header = (CORRELATION_HEADER.lower().encode(), str(correlation_id).encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        began = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=str(correlation_id)):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if started:
                    raise  # the client already has a partial answer; let the server drop it
                await internal_error().to_response()(scope, receive, send_with_id)
            finally:
                self._log_request(scope, status, began)
                _correlation_id.reset(token)

    @staticmethod
    def _log_request(scope: Scope, status: int, began: float) -> None:
        route = scope.get("route")
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=getattr(route, "path", None),
            status=status,
            duration_ms=round((time.perf_counter() - began) * 1000, 2),
        )
