"""The Staff aggregate (R-5): the people who train and examine, each of a department and a
registered branch. Pure: the branch comes in the command, as the registry holds it (R-2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from shared.decider import Conflict, Decider, InvalidCommand, NotFound
from shared.events import Event

from .branch import open_branch
from .commands import RecordLeaving, RegisterStaff, StaffCommand
from .events import StaffLeft, StaffRegistered
from .vocabulary import StaffStatus


@dataclass(frozen=True)
class Staff:
    profile: StaffRegistered | None = None
    left_on: date | None = None

    @property
    def status(self) -> StaffStatus | None:
        if self.profile is None:
            return None
        return StaffStatus.ACTIVE if self.left_on is None else StaffStatus.LEFT


def stream_id(staff_id: str) -> str:
    return f"staff-{staff_id}"


def initial() -> Staff:
    return Staff()


def evolve(state: Staff, event: Event) -> Staff:
    match event:
        case StaffRegistered():
            return replace(state, profile=event)
        case StaffLeft():
            return replace(state, left_on=event.left_on)
    return state


def decide(command: StaffCommand, state: Staff) -> list[Event]:
    match command:
        case RegisterStaff():
            return [_register(command, state)]
        case RecordLeaving():
            return [_leave(command, state)]
    raise TypeError(f"unknown command {command!r}")


STAFF = Decider(initial, evolve, decide)


def _register(c: RegisterStaff, state: Staff) -> StaffRegistered:
    if state.profile is not None:
        raise Conflict(f"staff {c.staff_id} is already registered")
    name = c.name.strip()
    if not name:
        raise InvalidCommand("name", "must not be empty")
    if not c.roles:
        raise InvalidCommand("roles", "name at least one of trainer, examiner")
    if len(set(c.roles)) != len(c.roles):
        raise InvalidCommand("roles", "entries must be distinct")
    open_branch(c.branch_id, c.branch, "registers no new staff")
    return StaffRegistered(
        staff_id=c.staff_id,
        name=name,
        department=c.department,
        roles=list(c.roles),
        branch_id=c.branch_id,
    )


def _leave(c: RecordLeaving, state: Staff) -> StaffLeft:
    if state.profile is None:
        raise NotFound(f"no staff {c.staff_id}")
    if state.left_on is not None:
        raise Conflict(f"staff {c.staff_id} left on {state.left_on}")
    if c.left_on > c.today:
        raise InvalidCommand("left_on", f"{c.left_on} is in the future")
    return StaffLeft(staff_id=c.staff_id, left_on=c.left_on)
