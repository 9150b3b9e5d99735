"""What a consuming service knows of the organisation: the branches and the staff enrollment
registers, learnt from its events through the service's inbox, and the names people read.

Enrollment owns the organisation (streams ``branch-<id>`` and ``staff-<id>``): BranchRegistered
``{branch_id, kind, name_zh, name_en}``, BranchRenamed ``{branch_id, name_zh, name_en}``,
BranchClosed ``{branch_id, closed_on, reason}``, StaffRegistered ``{staff_id, name, department,
roles, branch_id}``, StaffLeft ``{staff_id, left_on}``. Training, assessment and compensation each
keep them in their own database's tables ``branches`` and ``staff``, which the migrations of
:data:`MIGRATIONS` create in every service that lists them; written here inside the inbox
transaction of the event, read by the boards and exports.

The handlers are tolerant readers (the fields they use, by name) and order-safe: each event
writes only its own columns, and the names, which two event types write, follow the highest
stream version seen, so a redelivered or late event never rolls a rename back. The consumer
already applies a stream's events in version order (shared.ordering); the guard keeps a backfill
or a replay harmless too.

A branch is *known* once its BranchRegistered arrived: a branch registered moments ago is unknown
here until then, and a board asked for it answers 422 naming the field. Names not known yet read
as the id (never an error). A closed branch stays known, with its history and its names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shared.db import Conn
from shared.events import Envelope
from shared.inbox import distinct_runs
from shared.problems import Problem, validation_failed

# The tables this module writes and reads: a migration component of its own (``organisation``),
# listed by each consuming service before its own migrations.
MIGRATIONS = Path(__file__).parent / "organisation" / "migrations"
UPSTREAM = "enrollment"
BRANCH_EVENTS = frozenset({"BranchRegistered", "BranchRenamed", "BranchClosed"})
STAFF_EVENTS = frozenset({"StaffRegistered", "StaffLeft"})
UNKNOWN_BRANCH = "unknown_branch"
Source = Any  # an asyncpg pool or connection: both fetch

# The names follow the highest stream version that carried them (BranchRegistered, BranchRenamed).
_NAMES = """
    name_zh = CASE WHEN EXCLUDED.names_version > branches.names_version
                   THEN coalesce(EXCLUDED.name_zh, branches.name_zh) ELSE branches.name_zh END,
    name_en = CASE WHEN EXCLUDED.names_version > branches.names_version
                   THEN coalesce(EXCLUDED.name_en, branches.name_en) ELSE branches.name_en END,
    names_version = GREATEST(EXCLUDED.names_version, branches.names_version),
    updated_at = now()
"""
_REGISTERED = (
    "INSERT INTO branches (branch_id, kind, name_zh, name_en, names_version)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[])"
    " ON CONFLICT (branch_id) DO UPDATE SET kind = EXCLUDED.kind," + _NAMES
)
_RENAMED = (
    "INSERT INTO branches (branch_id, name_zh, name_en, names_version) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (branch_id) DO UPDATE SET" + _NAMES
)
_CLOSED = (
    "INSERT INTO branches (branch_id, status, closed_on) VALUES ($1, 'closed', $2::text::date)"
    " ON CONFLICT (branch_id) DO UPDATE SET status = 'closed', closed_on = EXCLUDED.closed_on,"
    " updated_at = now()"
)
_STAFF = (
    "INSERT INTO staff (staff_id, name, department, roles, branch_id)"
    " SELECT s, n, d, r::jsonb, b FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[]) AS x(s, n, d, r, b)"
    " ON CONFLICT (staff_id) DO UPDATE SET name = EXCLUDED.name,"
    " department = EXCLUDED.department, roles = EXCLUDED.roles, branch_id = EXCLUDED.branch_id,"
    " updated_at = now()"
)
_LEFT = (
    "INSERT INTO staff (staff_id, left_on) VALUES ($1, $2::text::date)"
    " ON CONFLICT (staff_id) DO UPDATE SET left_on = EXCLUDED.left_on, updated_at = now()"
)


def _day(value: Any) -> str | None:
    """An ISO date (or the date part of a date-time) as text PostgreSQL casts to ``date``."""
    return None if value is None else str(value)[:10]


def _branch_row(e: Envelope) -> tuple[Any, ...]:
    """A BranchRegistered as a row of ``_REGISTERED``."""
    d = e.data
    return d["branch_id"], d.get("kind"), d.get("name_zh"), d.get("name_en"), e.version


def _staff_row(e: Envelope) -> tuple[Any, ...]:
    """A StaffRegistered as a row of ``_STAFF``."""
    d = e.data
    roles = orjson.dumps(list(d.get("roles") or [])).decode()
    return d["staff_id"], d.get("name"), d.get("department"), roles, d.get("branch_id")


async def _set_wise(
    conn: Conn,
    statement: str,
    envelopes: Sequence[Envelope],
    key: str,
    row: Callable[[Envelope], tuple[Any, ...]],
) -> None:
    """A stretch of registrations (an import of many at once), one ``statement`` per run of
    distinct ``key``: each envelope's ``row``, passed column by column (unnest)."""
    for run in distinct_runs(envelopes, key=lambda e: e.data[key]):
        columns = zip(*(row(e) for e in run), strict=True)
        await conn.execute(statement, *(list(column) for column in columns))


async def _branches_registered(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    await _set_wise(conn, _REGISTERED, envelopes, "branch_id", _branch_row)


async def _staff_registered(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    await _set_wise(conn, _STAFF, envelopes, "staff_id", _staff_row)


async def _branch_renamed(conn: Conn, e: Envelope) -> None:
    d = e.data
    await conn.execute(_RENAMED, d["branch_id"], d.get("name_zh"), d.get("name_en"), e.version)


async def _branch_closed(conn: Conn, e: Envelope) -> None:
    await conn.execute(_CLOSED, e.data["branch_id"], _day(e.data.get("closed_on")))


async def _staff_left(conn: Conn, e: Envelope) -> None:
    await conn.execute(_LEFT, e.data["staff_id"], _day(e.data.get("left_on")))


RunHandler = Callable[[Conn, Sequence[Envelope]], Awaitable[None]]
# For a service's SetwiseHandler: registrations arriving together (an import) go together.
RUNS: Mapping[tuple[str, str], RunHandler] = {
    (UPSTREAM, "BranchRegistered"): _branches_registered,
    (UPSTREAM, "StaffRegistered"): _staff_registered,
}
_ONE: Mapping[str, Callable[[Conn, Envelope], Awaitable[None]]] = {
    "BranchRegistered": lambda conn, e: _branches_registered(conn, [e]),
    "BranchRenamed": _branch_renamed,
    "BranchClosed": _branch_closed,
    "StaffRegistered": lambda conn, e: _staff_registered(conn, [e]),
    "StaffLeft": _staff_left,
}


def is_organisation_event(envelope: Envelope) -> bool:
    return envelope.service == UPSTREAM and envelope.type in _ONE


async def apply_organisation_event(conn: Conn, envelope: Envelope) -> bool:
    """Record what an organisation event says (in the caller's inbox transaction); False for any
    other event, which the caller handles."""
    if not is_organisation_event(envelope):
        return False
    await _ONE[envelope.type](conn, envelope)
    return True


# --- reading: names beside ids, and the branch ids a query may name ---------------------------


@dataclass(frozen=True)
class BranchNames:
    branch_id: str
    name_zh: str
    name_en: str
    status: str  # open | closed
    closed_on: Any  # datetime.date | None


def _ids(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v is not None})


async def branch_names(source: Source, branch_ids: Iterable[str | None]) -> dict[str, BranchNames]:
    """The names of those of ``branch_ids`` whose names have arrived (one statement)."""
    rows = await source.fetch(
        "SELECT branch_id, name_zh, name_en, status, closed_on FROM branches"
        " WHERE branch_id = ANY($1::text[]) AND (name_zh IS NOT NULL OR name_en IS NOT NULL)",
        _ids(branch_ids),
    )
    return {
        r["branch_id"]: BranchNames(
            r["branch_id"],
            r["name_zh"] or r["name_en"],
            r["name_en"] or r["name_zh"],
            r["status"],
            r["closed_on"],
        )
        for r in rows
    }


async def staff_names(source: Source, staff_ids: Iterable[str | None]) -> dict[str, str]:
    """The names of those of ``staff_ids`` whose StaffRegistered has arrived (one statement)."""
    rows = await source.fetch(
        "SELECT staff_id, name FROM staff WHERE staff_id = ANY($1::text[]) AND name IS NOT NULL",
        _ids(staff_ids),
    )
    return {r["staff_id"]: r["name"] for r in rows}


def branch_labels(branch_id: str | None, names: Mapping[str, BranchNames]) -> dict[str, Any]:
    """``branch_name_zh`` and ``branch_name_en`` of a branch: the id while its names are unknown
    (None only for no branch at all)."""
    found = names.get(branch_id) if branch_id is not None else None
    return {
        "branch_name_zh": found.name_zh if found else branch_id,
        "branch_name_en": found.name_en if found else branch_id,
    }


def name_or_id(person_id: str | None, names: Mapping[str, str]) -> str | None:
    """A person's name, or its id while the name is unknown."""
    return None if person_id is None else names.get(person_id, person_id)


def with_branch_names(
    rows: Iterable[Mapping[str, Any]], names: Mapping[str, BranchNames], key: str = "branch_id"
) -> list[dict[str, Any]]:
    """Each row with its branch's names beside ``key`` (every other field kept)."""
    return [{**row, **branch_labels(row[key], names)} for row in rows]


def with_names(
    rows: Iterable[Mapping[str, Any]], names: Mapping[str, str], key: str, field: str
) -> list[dict[str, Any]]:
    """Each row with the name of the person ``row[key]`` as ``field`` (the id when unknown)."""
    return [{**row, field: name_or_id(row[key], names)} for row in rows]


def unknown_branch(branch_id: str, field: str = "query.branch_id") -> Problem:
    """The 422 of a branch id this service has not learnt of."""
    message = (
        f"no branch {branch_id} is known here: a branch is known once its registration has"
        " arrived from enrollment (moments after it was registered)"
    )
    return validation_failed(
        f"Invalid request: {field}: {message}",
        [{"field": field, "message": message, "type": UNKNOWN_BRANCH}],
    )


async def require_known_branch(
    source: Source, branch_id: str | None, field: str = "query.branch_id"
) -> None:
    """422 naming ``field`` unless ``branch_id`` (when given) is a registered branch, open or
    closed (a closed branch keeps its history)."""
    if branch_id is None:
        return
    known = await source.fetchval(
        "SELECT true FROM branches WHERE branch_id = $1 AND kind IS NOT NULL", branch_id
    )
    if not known:
        raise unknown_branch(branch_id, field)
