"""The Branch aggregate (R-2): the registry of branches trainees belong to. Pure.

A branch is registered once with its kind and its names (zh and en), may be renamed while open,
and is closed once, with the day and the reason: a closed branch takes no new enrolments (the
trainee decider checks, from :func:`registered`), and its trainees' history stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from shared.decider import Conflict, Decider, InvalidCommand, NotFound, RuleViolation
from shared.events import Event

from .commands import BranchCommand, CloseBranch, RegisterBranch, RegisteredBranch, RenameBranch
from .events import BranchClosed, BranchRegistered, BranchRenamed
from .vocabulary import BranchKind, BranchStatus


@dataclass(frozen=True)
class Branch:
    branch_id: str | None = None  # None: not registered
    kind: BranchKind | None = None
    name_zh: str = ""
    name_en: str = ""
    closed_on: date | None = None
    closing_reason: str | None = None

    @property
    def status(self) -> BranchStatus | None:
        if self.branch_id is None:
            return None
        return BranchStatus.OPEN if self.closed_on is None else BranchStatus.CLOSED


def stream_id(branch_id: str) -> str:
    return f"branch-{branch_id}"


def registered(state: Branch) -> RegisteredBranch | None:
    """What an enrolment or a staff registration is told of the branch (None: not registered)."""
    if state.branch_id is None or state.kind is None:
        return None
    return RegisteredBranch(state.branch_id, state.kind, state.closed_on)


def open_branch(branch_id: str, branch: RegisteredBranch | None, refused: str) -> RegisteredBranch:
    """R-2: ``branch_id`` names a registered branch (else 422 naming ``branch_id``) that is still
    open (else 409 R-2, saying what the closed branch ``refused``)."""
    if branch is None or branch.branch_id != branch_id:
        raise InvalidCommand("branch_id", f"no branch {branch_id!r} is registered", "R-2")
    if branch.closed_on is not None:
        raise RuleViolation("R-2", f"branch {branch_id} closed on {branch.closed_on}: it {refused}")
    return branch


def initial() -> Branch:
    return Branch()


def evolve(state: Branch, event: Event) -> Branch:
    match event:
        case BranchRegistered():
            return Branch(event.branch_id, event.kind, event.name_zh, event.name_en)
        case BranchRenamed():
            return replace(state, name_zh=event.name_zh, name_en=event.name_en)
        case BranchClosed():
            return replace(state, closed_on=event.closed_on, closing_reason=event.reason)
    return state


def decide(command: BranchCommand, state: Branch) -> list[Event]:
    match command:
        case RegisterBranch():
            return [_register(command, state)]
        case RenameBranch():
            return _rename(command, _open(state, command.branch_id))
        case CloseBranch():
            return [_close(command, _open(state, command.branch_id))]
    raise TypeError(f"unknown command {command!r}")


BRANCH = Decider(initial, evolve, decide)


def _open(state: Branch, branch_id: str) -> Branch:
    if state.branch_id is None:
        raise NotFound(f"no branch {branch_id}")
    if state.closed_on is not None:
        raise Conflict(f"branch {branch_id} was closed on {state.closed_on}: it stays as it was")
    return state


def _name(field: str, value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidCommand(field, "must not be empty")
    return name


def _register(c: RegisterBranch, state: Branch) -> BranchRegistered:
    if state.branch_id is not None:
        raise Conflict(f"branch {c.branch_id} is already registered")
    return BranchRegistered(
        branch_id=c.branch_id,
        kind=c.kind,
        name_zh=_name("name_zh", c.name_zh),
        name_en=_name("name_en", c.name_en),
    )


def _rename(c: RenameBranch, state: Branch) -> list[Event]:
    """Both names after the change; nothing when they are the names the branch has."""
    if c.name_zh is None and c.name_en is None:
        raise InvalidCommand("name_zh", "give name_zh, name_en or both")
    name_zh = state.name_zh if c.name_zh is None else _name("name_zh", c.name_zh)
    name_en = state.name_en if c.name_en is None else _name("name_en", c.name_en)
    if (name_zh, name_en) == (state.name_zh, state.name_en):
        return []
    return [BranchRenamed(branch_id=c.branch_id, name_zh=name_zh, name_en=name_en)]


def _close(c: CloseBranch, state: Branch) -> BranchClosed:
    reason = c.reason.strip()
    if not reason:
        raise InvalidCommand("reason", "must not be empty")
    if c.closed_on > c.today:
        raise InvalidCommand("closed_on", f"{c.closed_on} is in the future")
    return BranchClosed(branch_id=c.branch_id, closed_on=c.closed_on, reason=reason)
