"""The request of ``POST /what-if`` and how its drafts become policy values (docs/what-if.md).

Both services that evaluate drafts (assessment: grading and fines; compensation: pay and fees)
read the same request and fill a draft the same way: a document without ``version`` and
``effective_from`` becomes version ``draft`` in force from the period's first day, validated by
the very model the policy in force is (a bad draft is refused whole, every problem listed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from shared.policy import PolicyBook, PolicyVersion, UnknownPolicyVersion
from shared.problems import Problem, field_name, validation_failed
from shared.requests import RegisteredBranch, RequestBody

DRAFT_VERSION = "draft"
MAX_PERIOD_DAYS = 731  # two years: what a meeting weighs, and a bounded amount of work
NOT_COVERED = ("placement", "plan_content")  # drafts what-if does not re-derive
P = TypeVar("P", bound=PolicyVersion)
Problems = list[dict[str, Any]]


def _text(value: object) -> object:
    """A day is written ``YYYY-MM-DD``: a number is not one (pydantic would read it as a time)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date is text YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_text)]


class WhatIfRequest(RequestBody):
    """``{policies: {name: document}, from, to, branch_ids?}``: drafts and the period weighed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    policies: Annotated[dict[str, dict[str, Any]], Field(max_length=8)] = {}
    from_: Day = Field(alias="from", description="the period's first day")
    to: Day = Field(description="the period's last day")
    branch_ids: Annotated[list[RegisteredBranch] | None, Field(max_length=200)] = None


def check_request(
    request: WhatIfRequest, covered: Iterable[str], elsewhere: Mapping[str, str] | None = None
) -> Problems:
    """The request's problems besides the documents: the period, and drafts not weighed here
    (``elsewhere``: policy name -> the service whose ``POST /what-if`` weighs it)."""
    problems: Problems = []
    if request.to < request.from_:
        problems.append(_problem("to", "the period ends before it begins", "period"))
    elif (request.to - request.from_).days >= MAX_PERIOD_DAYS:
        problems.append(_problem("to", f"a period is at most {MAX_PERIOD_DAYS} days", "period"))
    known = set(covered)
    for name in request.policies:
        if name in NOT_COVERED:
            text = f"what-if does not cover {name} drafts: it re-derives grades, fines, fees, pay"
            problems.append(_problem(f"policies.{name}", text, "not_covered"))
        elif elsewhere and name in elsewhere:
            text = f"a {name} draft is weighed by {elsewhere[name]}'s POST /what-if"
            problems.append(_problem(f"policies.{name}", text, "elsewhere"))
        elif name not in known:
            problems.append(_problem(f"policies.{name}", f"unknown policy {name!r}", "unknown"))
    return problems


def fill_draft(
    model: type[P], document: Mapping[str, Any], start: date, name: str, problems: Problems
) -> P | None:
    """The draft as a policy value, or None with its problems added to ``problems``."""
    try:
        return model.model_validate(
            {**document, "version": DRAFT_VERSION, "effective_from": start.isoformat()}
        )
    except ValidationError as invalid:
        for error in invalid.errors():
            loc = ("policies", name, *error.get("loc", ()))
            problems.append(_problem(field_name(loc), str(error["msg"]), str(error["type"])))
        return None


def in_force_on(book: PolicyBook[P], day: date, problems: Problems) -> P | None:
    """The version of ``book`` in force on ``day`` (the period's end); None with a problem when
    none is (a period before the first version)."""
    try:
        return book.in_force(day)
    except UnknownPolicyVersion:
        problems.append(_problem("to", f"no policy is in force on {day}", "period"))
        return None


def refused(problems: Problems) -> Problem:
    return validation_failed("The draft cannot be evaluated: every problem is listed.", problems)


def _problem(field: str, message: str, kind: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": kind}


# The answers (docs/what-if.md): amounts are text with two decimals, as everywhere in the API.
class Side(BaseModel):
    """One side of a change: the outcome of the grading policy (absent for a pay-only change)
    and the period's pay."""

    passed: bool | None = None
    position: str | None = None
    level: str | None = None
    grade_score: str | None = None
    pay: str


class Change(BaseModel):
    trainee_id: str
    branch_id: str | None
    before: Side
    after: Side
    pay_delta: str


class BoardCount(BaseModel):
    branch_id: str
    position: str | None  # None: failed, or passed without a position's eligibility
    level: str | None
    count: int


class CostMonth(BaseModel):
    month: str
    before: str
    after: str
    delta: str
    payslips_before: str
    payslips_after: str
    fines_before: str
    fines_after: str
    fees_before: str
    fees_after: str


class CostTotal(BaseModel):
    before: str
    after: str
    delta: str


class CostDelta(BaseModel):
    months: list[CostMonth]
    total: CostTotal


class FineChange(BaseModel):
    trainer_id: str
    session_id: str
    month: str
    failed_before: int
    failed_after: int
    before: str
    after: str


class WhatIfAnswer(BaseModel):
    changes: list[Change]
    board_before: list[BoardCount]
    board_after: list[BoardCount]
    monthly_cost_delta: CostDelta
    fines: list[FineChange] = []
    policy_in_force: str | None = None


class PayChange(BaseModel):
    employee_id: str
    branch_id: str
    before: str
    after: str
    delta: str
    months: dict[str, list[str]]  # month -> [in force, draft], the months that differ


class PayWhatIfAnswer(BaseModel):
    employees: list[PayChange]
    monthly_cost_delta: CostDelta
