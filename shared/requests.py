"""Small helpers every service's routes share: the clock, command metadata, ETags, cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError
from starlette.requests import HTTPConnection

from shared.auth import Principal
from shared.decider import Metadata
from shared.logging import current_correlation_id
from shared.problems import NUL_ERROR, validation_failed

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def request_now(connection: HTTPConnection) -> datetime:
    """The request's ``now``: from ``app.state.clock`` (tests pin it), else the system clock."""
    clock: Clock = getattr(connection.app.state, "clock", system_clock)
    return clock()


async def _now(request: Request) -> datetime:  # async: FastAPI runs sync ones in a thread
    return request_now(request)


Now = Annotated[datetime, Depends(_now)]


def etag(version: int) -> str:
    """The ETag of an aggregate at stream ``version``: the version, quoted (``"7"``)."""
    return f'"{version}"'


def command_metadata(
    principal: Principal,
    idempotency_key: str | None,
    now: datetime,
    *,
    branch_id: str | None,
    roles: tuple[str, ...] = (),
) -> Metadata:
    """Who (the token), which branch, which request (correlation id, key), and when."""
    return Metadata(
        actor=principal.actor(*roles),
        branch_id=branch_id,
        correlation_id=current_correlation_id(),
        idempotency_key=idempotency_key,
        occurred_at=now,
    )


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """An opaque page cursor back to the last key of the previous page (422 when malformed)."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise validation_failed(
            "Invalid request: query.cursor",
            [{"field": "query.cursor", "message": "not a cursor from this list", "type": "cursor"}],
        ) from None


def _nul_path(value: object, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a decoded JSON value a string holds U+0000 (keys included), or None.

    Runs on every request body: scalars are checked in place rather than by a call each, and a
    path is only built on the way down into a container (bodies are mostly flat)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Iterable[tuple[str | int, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (*path, key)
        if isinstance(item, str):
            if "\x00" in item:
                return (*path, key)
        elif isinstance(item, dict | list):
            found = _nul_path(item, (*path, key))
            if found is not None:
                return found
    return None


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, and so is text holding U+0000,
    which PostgreSQL cannot store (the append would fail as a 500, and take the other appends of
    its group-commit batch with it); the 422 names the field (shared.problems)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        path = _nul_path(data)
        if path is not None:
            raise PydanticCustomError(
                NUL_ERROR, "text may not contain the NUL character (U+0000)", {"path": path}
            )
        return data
