"""Small helpers every service's routes share: the clock, command metadata, ETags, and the types
of what requests carry (bodies, money, page cursors), each bounded so that a bad value is a 422
naming it, never a 500 from deeper in."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError
from starlette.requests import HTTPConnection

from shared.auth import Principal
from shared.execution import Metadata
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


# --- decimals: money, scores ----------------------------------------------------------------


def decimal_schema(text: str, places: int, **bounds: float) -> WithJsonSchema:
    """The OpenAPI of a Decimal input as its route reads it: a JSON number within ``bounds``
    (``minimum``, ``exclusiveMinimum``, ``maximum``) with at most ``places`` decimals, or that
    number written as text, spelt as ``text`` says. Pydantic's own schema says neither the
    decimals nor anything of the text (any string), which the route then refuses with a 422."""
    number = {"type": "number", **bounds, "multipleOf": float(f"1e-{places}")}
    return WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": text}]})


MONEY_MAX = Decimal("999999999.99")
Money = Annotated[
    Decimal,
    Field(ge=0, le=MONEY_MAX, max_digits=11, decimal_places=2),
    decimal_schema(r"^[0-9]{1,9}(\.[0-9]{1,2})?$", 2, minimum=0, maximum=float(MONEY_MAX)),
]
"""A money input (yuan): 0 to :data:`MONEY_MAX`, at most two decimals. The bound is far above any
wage or fee and keeps every sum the services make within ``decimal``'s 28 digits (``1E+26``
failed there as a 500)."""
Score = Annotated[
    Decimal,
    Field(ge=0, le=100, decimal_places=1),
    decimal_schema(r"^(100(\.0)?|[0-9]{1,2}(\.[0-9])?)$", 1, minimum=0, maximum=100),
]
"""An exam score (R-17): 0 to 100, at most one decimal."""


# --- page cursors ---------------------------------------------------------------------------

_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,128}")  # URL-safe base64 without padding
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # the id alphabet of every service
_POSITION = re.compile(r"[1-9][0-9]{0,17}")  # a store position: fits PostgreSQL's bigint
_CURSOR_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "pattern": f"^{_CURSOR.pattern}$",
        "description": "next_cursor of the previous page",
    }
)


def encode_cursor(value: str) -> str:
    """An opaque page cursor of ``value``, the last key of a page (an id or a position)."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _key_in(cursor: object, key: re.Pattern[str]) -> str:
    """The key a cursor of :func:`encode_cursor` holds, when it has the ``key`` shape; else the
    validation error that names the parameter (``query.cursor``)."""
    if isinstance(cursor, str) and _CURSOR.fullmatch(cursor):
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            text = ""
        if key.fullmatch(text):
            return text
    raise PydanticCustomError("cursor", "not a cursor from this list")


def _id_key(cursor: Any) -> str:
    return _key_in(cursor, _KEY)


def _position_key(cursor: Any) -> int:
    return int(_key_in(cursor, _POSITION))


_PAIR = re.compile(f"{_KEY.pattern}/{_KEY.pattern}")


def _pair_key(cursor: Any) -> str:
    return _key_in(cursor, _PAIR)


def encode_pair_cursor(first: str, second: str) -> str:
    """The cursor of a list ordered by two ids (for :data:`PairCursor`)."""
    return encode_cursor(f"{first}/{second}")


def pair_of(cursor: str) -> tuple[str, str]:
    """The two ids a :data:`PairCursor` holds."""
    first, _, second = cursor.partition("/")
    return first, second


KeyCursor = Annotated[str, BeforeValidator(_id_key), _CURSOR_SCHEMA]
"""``?cursor=`` of a list ordered by id: the last id of the previous page."""
PairCursor = Annotated[str, BeforeValidator(_pair_key), _CURSOR_SCHEMA]
"""``?cursor=`` of a list ordered by two ids: the last pair of the previous page, as
``first/second`` (:func:`pair_of` splits it)."""
PositionCursor = Annotated[int, BeforeValidator(_position_key), _CURSOR_SCHEMA]
"""``?cursor=`` of a list ordered by store position: the last position of the previous page."""


# --- ids a route looks up -------------------------------------------------------------------

_ID_SCHEMA = WithJsonSchema({"type": "string", "pattern": f"^{_KEY.pattern}$"})
RegisteredBranch = Annotated[str, Field(min_length=1, max_length=64), _ID_SCHEMA]
"""A branch id the route looks up in the registry. The OpenAPI gives the form every id has; the
route answers any other text as it answers an unknown branch (a 422 naming the field)."""
BranchQuery = Annotated[Annotated[str, _ID_SCHEMA] | None, Query(max_length=64)]
"""``?branch_id=`` of a list or board that refuses a branch it does not know (422), as
:data:`RegisteredBranch`."""


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


NO_NUL = "^[^\\x00]*$"
# What str.strip() takes away (the characters str.isspace() holds).
_SPACE = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NotBlank = Field(json_schema_extra={"pattern": f"^[^\\x00]*[^\\x00{_SPACE}][^\\x00]*$"})
"""Text the decider trims and refuses when nothing is left (its 422 names the field and rule),
said in the OpenAPI only: some character other than white space, and no NUL (as all text)."""


def _declare_no_nul(schema: dict[str, Any]) -> None:
    """Say in the JSON schema what :class:`RequestBody` refuses: free text (a string with no
    pattern, format or enum of its own) holds no U+0000."""
    if schema.get("type") == "string" and not schema.keys() & {"pattern", "format", "enum"}:
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            _declare_no_nul(option)
    if isinstance(schema.get("items"), dict):
        _declare_no_nul(schema["items"])
    for prop in schema.get("properties", {}).values():
        _declare_no_nul(prop)


def one_of_them_given(*fields: str) -> Callable[[dict[str, Any]], None]:
    """The JSON schema of a body (its ``json_schema_extra``) needing at least one of the
    optional ``fields`` given, not null: :class:`RequestBody`'s, saying that too."""

    def declare(schema: dict[str, Any]) -> None:
        _declare_no_nul(schema)
        schema["anyOf"] = [
            {"required": [field], "properties": {field: {"not": {"type": "null"}}}}
            for field in fields
        ]

    return declare


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, and so is text holding U+0000,
    which PostgreSQL cannot store (the append would fail as a 500, and take the other appends of
    its group-commit batch with it); the 422 names the field (shared.problems)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_declare_no_nul)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        path = _nul_path(data)
        if path is not None:
            raise PydanticCustomError(
                NUL_ERROR, "text may not contain the NUL character (U+0000)", {"path": path}
            )
        return data


async def single_valued_query(request: Request) -> None:
    """A query parameter given more than once is ambiguous (``?branch_id=a&branch_id=b``): 422
    naming it. Every query parameter of the services takes one value, and the framework would
    otherwise answer for the last one given.

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in a worker
    thread, and this one is on every request of every service (the hand-off to the thread and
    back cost more CPU per enrolment than the R-2 branch check: docs/adr/0015)."""
    repeated = sorted(
        {
            key
            for key, _ in request.query_params.multi_items()
            if len(request.query_params.getlist(key)) > 1
        }
    )
    if repeated:
        errors = [
            {"field": f"query.{key}", "message": "given more than once", "type": "repeated"}
            for key in repeated
        ]
        raise validation_failed("Invalid request: " + ", ".join(e["field"] for e in errors), errors)
