"""Enrollment's organisation events as the bus delivers them to a consuming service (the fixed
shapes: BranchRegistered, BranchRenamed, BranchClosed on ``branch-<id>``, StaffRegistered and
StaffLeft on ``staff-<id>``), for tests of the consumers and of the names on boards and exports.

Built as plain envelopes of the payload fields by name, the way the consumers read them: a
consumer never imports enrollment's event classes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ops.organisation import STANDARD_BRANCHES
from shared.events import Actor, Envelope
from shared.inbox import Handler, handle_once

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ADMIN = Actor("admin-1", "admin")

# The standard branches (the demo's, and the ones tests register through enrollment's API):
# (kind, name_zh, name_en), from the one list of them.
BRANCHES = {b["branch_id"]: (b["kind"], b["name_zh"], b["name_en"]) for b in STANDARD_BRANCHES}


def standard_names(branch_id: str) -> tuple[str, str]:
    """A standard branch's (name_zh, name_en): what boards and exports show beside its id."""
    _, name_zh, name_en = BRANCHES[branch_id]
    return name_zh, name_en


def organisation_event(
    type_: str, stream_id: str, version: int, data: dict[str, Any], branch_id: str | None = None
) -> Envelope:
    return Envelope(
        uuid.uuid4(),
        stream_id,
        version,
        version,
        type_,
        1,
        NOW,
        NOW,
        data,
        ADMIN,
        branch_id=branch_id,
        service="enrollment",
    )


def branch_registered(
    branch_id: str, kind: str | None = None, name_zh: str | None = None, name_en: str | None = None
) -> Envelope:
    """Version 1 of ``branch-<id>``; the names of :data:`BRANCHES` unless given."""
    known = BRANCHES.get(branch_id, ("branch_office", f"{branch_id} 网点", f"{branch_id} office"))
    data = {
        "branch_id": branch_id,
        "kind": kind or known[0],
        "name_zh": name_zh or known[1],
        "name_en": name_en or known[2],
    }
    return organisation_event("BranchRegistered", f"branch-{branch_id}", 1, data, branch_id)


def branch_renamed(branch_id: str, name_zh: str, name_en: str, version: int = 2) -> Envelope:
    data = {"branch_id": branch_id, "name_zh": name_zh, "name_en": name_en}
    return organisation_event("BranchRenamed", f"branch-{branch_id}", version, data, branch_id)


def branch_closed(branch_id: str, closed_on: str = "2026-04-30", version: int = 2) -> Envelope:
    data = {"branch_id": branch_id, "closed_on": closed_on, "reason": "merged"}
    return organisation_event("BranchClosed", f"branch-{branch_id}", version, data, branch_id)


def staff_registered(
    staff_id: str,
    name: str,
    department: str = "technical",
    roles: Sequence[str] = ("trainer",),
    branch_id: str = "hq",
) -> Envelope:
    data = {
        "staff_id": staff_id,
        "name": name,
        "department": department,
        "roles": list(roles),
        "branch_id": branch_id,
    }
    return organisation_event("StaffRegistered", f"staff-{staff_id}", 1, data, branch_id)


def staff_left(staff_id: str, left_on: str = "2026-05-31", version: int = 2) -> Envelope:
    data = {"staff_id": staff_id, "left_on": left_on}
    return organisation_event("StaffLeft", f"staff-{staff_id}", version, data)


async def deliver_organisation(pool: Any, handler: Handler, *envelopes: Envelope) -> list[bool]:
    """What the consumer does with each message: handler and inbox row, once."""
    return [await handle_once(pool, handler, e) for e in envelopes]


async def teach_branches(pool: Any, handler: Handler, *branch_ids: str) -> None:
    """Each branch registered with the service (its BranchRegistered delivered)."""
    await deliver_organisation(pool, handler, *(branch_registered(b) for b in branch_ids))
