"""Request bodies and path parameters of the enrollment routes, and the answers they give.

Every body refuses unknown fields and bounds every value, so a bad request is a 422 naming the
field before any command is built; scores and years are exact decimals, sent back as strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from shared.requests import NotBlank, RegisteredBranch, RequestBody, Score, decimal_schema

from .domain.trainee import Trainee
from .domain.vocabulary import Category, Education, PlanLevel, Position, Status

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
TraineeId = Annotated[str, Field(pattern=ID_PATTERN)]
TraineeIdPath = Annotated[str, Path(pattern=ID_PATTERN)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class EnrollRequest(Body):
    trainee_id: TraineeId | None = None
    name: Annotated[str, Field(min_length=1, max_length=200), NotBlank]
    category: Category
    branch_id: RegisteredBranch
    education: Education
    experience_years: Annotated[
        Decimal,
        Field(ge=0, le=70, decimal_places=1),
        decimal_schema(r"^(70(\.0)?|[1-6]?[0-9](\.[0-9])?)$", 1, minimum=0, maximum=70),
    ]
    certificates: list[Annotated[str, Field(max_length=200), NotBlank]] = Field(
        default=[], max_length=50
    )
    product_series: list[Annotated[str, Field(max_length=100), NotBlank]] = Field(
        default=[], max_length=50
    )
    enrolled_on: date


class PlacementRequest(Body):
    written: Score
    practical: Score | None = None


class WithdrawRequest(Body):
    reason: Annotated[str, Field(min_length=1, max_length=1000), NotBlank]


# --- answers --------------------------------------------------------------------------------
# Scores and years go out as exact decimal strings, as the events hold them.


class Enrolled(BaseModel):
    trainee_id: str
    version: int


class Withdrawn(BaseModel):
    trainee_id: str
    status: Status
    version: int


class ImportedRow(BaseModel):
    row: int = Field(description="the row's number, as the spreadsheet shows it (header: 1)")
    trainee_id: str


class TraineesImported(BaseModel):
    """``POST /imports/trainees``: every row enrolled, in file order."""

    imported: int
    ids: list[str]
    rows: list[ImportedRow]


class PlacementAnswer(BaseModel):
    """``POST /trainees/{id}/placement``: where the placement exam put the trainee (R-6)."""

    trainee_id: str
    position: Position
    plan_level: PlanLevel
    average: str
    policy_version: str
    rule_trace: list[str]
    version: int

    @classmethod
    def of(cls, trainee_id: str, state: Trainee, version: int) -> PlacementAnswer:
        placement = state.placement
        assert placement is not None
        return cls(
            trainee_id=trainee_id,
            position=placement.position,
            plan_level=placement.plan_level,
            average=str(placement.average),
            policy_version=placement.policy_version,
            rule_trace=placement.rule_trace,
            version=version,
        )


class Placement(BaseModel):
    written: str
    practical: str | None
    average: str
    policy_version: str
    rule_trace: list[str]


class DirectoryEntry(BaseModel):
    """A trainee as the directory lists it."""

    trainee_id: str
    name: str
    category: Category
    branch_id: str
    education: Education
    experience_years: str
    certificates: list[str]
    product_series: list[str]
    enrolled_on: date
    status: Status
    position: Position | None
    plan_level: PlanLevel | None
    version: int


class DirectoryPage(BaseModel):
    items: list[DirectoryEntry]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class Profile(DirectoryEntry):
    """``GET /trainees/{id}``: the directory's fields and the placement exam's detail."""

    placement: Placement | None

    @classmethod
    def of(cls, state: Trainee, version: int) -> Profile:
        p, placement = state.profile, state.placement
        assert p is not None
        return cls(
            trainee_id=p.trainee_id,
            name=p.name,
            category=p.category,
            branch_id=p.branch_id,
            education=p.education,
            experience_years=str(p.experience_years),
            certificates=p.certificates,
            product_series=p.product_series,
            enrolled_on=p.enrolled_on,
            status=state.status,
            position=placement.position if placement else None,
            plan_level=placement.plan_level if placement else None,
            placement=None
            if placement is None
            else Placement(
                written=str(placement.written),
                practical=None if placement.practical is None else str(placement.practical),
                average=str(placement.average),
                policy_version=placement.policy_version,
                rule_trace=placement.rule_trace,
            ),
            version=version,
        )
