"""Structured JSON logs on stdout, with the correlation id of the request (or message) at hand.

A request's correlation id is bound by :class:`shared.edge.EdgeMiddleware` (adopted from
``X-Correlation-ID`` or made), a message's by the consumer (:func:`bind_correlation_id`); every
log line and every event appended in that context carries it (:func:`current_correlation_id`).
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
import structlog

CORRELATION_HEADER = "X-Correlation-ID"
_HANDLER_NAME = "gradeline-json"

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar("gradeline_correlation_id", default=None)


def _render_json(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


# Tracebacks as structured frames, without each frame's local variables: those hold bearer
# tokens, request bodies and personal data, and made one error a megabyte of log.
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


class _CurrentStdout:
    """Whatever ``sys.stdout`` is when a line is written, not when logging was configured: a
    runner that swaps stdout (pytest's capture, a daemoniser) closes the old stream, and a log
    line written to it would raise inside whatever code was logging."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_STDOUT: Any = _CurrentStdout()


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
        logger_factory=structlog.PrintLoggerFactory(_STDOUT),
        cache_logger_on_first_use=False,  # tests and `--role` switches may reconfigure
    )
    handler = logging.StreamHandler(_STDOUT)
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


@contextmanager
def correlation_scope(value: uuid.UUID) -> Iterator[None]:
    """Within the block, ``value`` is the correlation id of the work and of every log line."""
    token = _correlation_id.set(value)
    try:
        with structlog.contextvars.bound_contextvars(correlation_id=str(value)):
            yield
    finally:
        _correlation_id.reset(token)
