"""Request bodies, path parameters and answers of the organisation's routes (branches and staff).

As everywhere, bodies refuse unknown fields and bound every value (a 422 naming the field before
any command is built). Branch and staff ids have the form of every other id here (letters,
digits, ``_ . -``; at most 64): they become stream ids and URL path segments.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from shared.requests import RequestBody, one_of_them_given

from .domain.branch import Branch
from .domain.staff import Staff
from .domain.vocabulary import BranchKind, BranchStatus, Department, StaffRole, StaffStatus

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]
BranchIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
StaffIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class RegisterBranchRequest(RequestBody):
    branch_id: Id
    kind: BranchKind
    name_zh: Name
    name_en: Name


class RenameBranchRequest(RequestBody):
    """The names to change (either or both); the other stays as it is."""

    model_config = ConfigDict(json_schema_extra=one_of_them_given("name_zh", "name_en"))
    name_zh: Name | None = None
    name_en: Name | None = None


class CloseBranchRequest(RequestBody):
    closed_on: date
    reason: str = Field(min_length=1, max_length=1000)


class RegisterStaffRequest(RequestBody):
    staff_id: Id
    name: Name
    department: Department
    roles: list[StaffRole] = Field(
        min_length=1, max_length=2, json_schema_extra={"uniqueItems": True}
    )
    branch_id: Id


class LeaveRequest(RequestBody):
    left_on: date


# --- answers --------------------------------------------------------------------------------


class BranchView(BaseModel):
    """A branch as the registry holds it; ``version`` is its stream's (the ETag of its GET)."""

    branch_id: str
    kind: BranchKind
    name_zh: str
    name_en: str
    status: BranchStatus
    closed_on: date | None
    closing_reason: str | None
    version: int

    @classmethod
    def of(cls, state: Branch, version: int) -> BranchView:
        """The registered branch's fields, by name."""
        assert state.branch_id is not None and state.kind is not None and state.status
        return cls.model_validate({**asdict(state), "status": state.status, "version": version})


class BranchPage(BaseModel):
    items: list[BranchView]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class StaffView(BaseModel):
    staff_id: str
    name: str
    department: Department
    roles: list[StaffRole]
    branch_id: str
    status: StaffStatus
    left_on: date | None
    version: int

    @classmethod
    def of(cls, state: Staff, version: int) -> StaffView:
        """The fields of the registration, by name, and what became of it since."""
        assert state.profile is not None and state.status is not None
        since = {"status": state.status, "left_on": state.left_on, "version": version}
        return cls.model_validate({**state.profile.model_dump(), **since})


class StaffPage(BaseModel):
    items: list[StaffView]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class Imported(BaseModel):
    """``POST /imports/branches``, ``POST /imports/staff``: every row registered, in file order."""

    imported: int
    ids: list[str]
