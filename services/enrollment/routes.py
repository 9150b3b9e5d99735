"""HTTP routes of the enrollment service (api-contract.md, "enrollment"). Thin: request ->
command -> shared.decider.execute -> response; the rules live in domain/trainee.py."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from shared.audience import Audience
from shared.auth import Principal, Role
from shared.commands import CommandContext, command
from shared.execution import Metadata, Outcome, execute, load
from shared.problems import forbidden, not_found
from shared.requests import KeyCursor, RequestBody, command_metadata, encode_cursor, etag

from . import audiences
from .domain.commands import Command, EnrollTrainee, ScorePlacement, WithdrawTrainee
from .domain.events import registry
from .domain.trainee import TRAINEE, Trainee
from .domain.vocabulary import Category, Education

router = APIRouter(tags=["trainees"])

# Commands: the caller with one of the roles, the Idempotency-Key, If-Match and now, in one node.
Enrolment = Annotated[CommandContext, Depends(command(*audiences.ENROLMENT.roles))]
Withdrawal = Annotated[CommandContext, Depends(command(*audiences.WITHDRAWAL.roles, if_match=True))]
Placement = Annotated[CommandContext, Depends(command(*audiences.PLACEMENT.roles, if_match=True))]
ProfileReader = Annotated[Principal, Depends(audiences.PROFILE.gate())]
Lister = Annotated[Principal, Depends(audiences.LISTING.gate())]
# The role an event's actor is recorded under, first held first.
CLERK_FIRST = (Role.BRANCH_CLERK, Role.AFTER_SALES_MANAGER)
TraineeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Score = Annotated[Decimal, Field(ge=0, le=100, decimal_places=1)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class EnrollRequest(Body):
    trainee_id: TraineeId | None = None
    name: str = Field(min_length=1, max_length=200)
    category: Category
    branch_id: str = Field(min_length=1, max_length=64)
    education: Education
    experience_years: Decimal = Field(ge=0, le=70, decimal_places=1)
    certificates: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=50)
    product_series: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)
    enrolled_on: date


class PlacementRequest(Body):
    written: Score
    practical: Score | None = None


class WithdrawRequest(Body):
    reason: str = Field(min_length=1, max_length=1000)


def stream(trainee_id: str) -> str:
    return f"trainee-{trainee_id}"


async def run(
    request: Request, trainee_id: str, command: Command, meta: Metadata, expected: int | None,
    *, creates: bool = False,
) -> Outcome[Trainee]:  # fmt: skip
    return await execute(
        request.app.state.store, registry, TRAINEE, stream(trainee_id), command, meta,
        expected_version=expected,
        creates=creates,
    )  # fmt: skip


async def visible_trainee(
    request: Request, principal: Principal, trainee_id: str, audience: Audience
) -> Outcome[Trainee]:
    """The trainee, if the route's ``audience`` lets this principal see it: 404 otherwise, so
    other branches learn nothing."""
    state, version = await load(request.app.state.store, registry, TRAINEE, stream(trainee_id))
    profile = state.profile
    if profile is None or not audience.sees(
        principal, branch_id=profile.branch_id, person_id=profile.trainee_id
    ):
        raise not_found(f"no trainee {trainee_id}")
    return Outcome(state, version)


@router.post("/trainees", status_code=201)
async def enroll(
    body: EnrollRequest, cmd: Enrolment, request: Request, response: Response
) -> dict[str, Any]:
    """Enrol a trainee (TraineeEnrolled). A branch clerk enrols into its own branch only."""
    principal, now = cmd.principal, cmd.now
    if not audiences.ENROLMENT.sees(principal, branch_id=body.branch_id, person_id=None):
        raise forbidden(f"not permitted to enrol into branch {body.branch_id!r}")
    trainee_id = body.trainee_id or f"t-{uuid.uuid4().hex[:12]}"
    command = EnrollTrainee(
        trainee_id=trainee_id, name=body.name, category=body.category, branch_id=body.branch_id,
        education=body.education, experience_years=body.experience_years,
        certificates=tuple(body.certificates), product_series=tuple(body.product_series),
        enrolled_on=body.enrolled_on, today=now.date(),
    )  # fmt: skip
    meta = command_metadata(principal, cmd.idempotency_key, now, branch_id=body.branch_id,
                            roles=CLERK_FIRST)  # fmt: skip
    # A new trainee, almost always: skip reading a stream that does not exist yet.
    outcome = await run(request, trainee_id, command, meta, None, creates=True)
    response.headers["ETag"] = etag(outcome.version)
    response.headers["Location"] = f"/trainees/{trainee_id}"
    return {"trainee_id": trainee_id, "version": outcome.version}


@router.post("/trainees/{trainee_id}/placement")
async def score_placement(
    trainee_id: str, body: PlacementRequest, cmd: Placement, request: Request, response: Response
) -> dict[str, Any]:
    """Record the placement exam (R-6): the starting position and the plan level."""
    principal, now = cmd.principal, cmd.now
    current = await visible_trainee(request, principal, trainee_id, audiences.PLACEMENT)
    assert current.state.profile is not None
    command = ScorePlacement(trainee_id, body.written, body.practical, now.date())
    meta = command_metadata(principal, cmd.idempotency_key, now,
                            branch_id=current.state.profile.branch_id,
                            roles=(Role.EXAMINER, Role.AFTER_SALES_MANAGER))  # fmt: skip
    outcome = await run(request, trainee_id, command, meta, cmd.expected)
    placement = outcome.state.placement
    assert placement is not None
    response.headers["ETag"] = etag(outcome.version)
    return {
        "trainee_id": trainee_id, "position": placement.position,
        "plan_level": placement.plan_level, "average": str(placement.average),
        "policy_version": placement.policy_version, "rule_trace": placement.rule_trace,
        "version": outcome.version,
    }  # fmt: skip


@router.post("/trainees/{trainee_id}/withdraw")
async def withdraw(
    trainee_id: str, body: WithdrawRequest, cmd: Withdrawal, request: Request, response: Response
) -> dict[str, Any]:
    """Withdraw a trainee (TraineeWithdrawn)."""
    principal, now = cmd.principal, cmd.now
    current = await visible_trainee(request, principal, trainee_id, audiences.WITHDRAWAL)
    assert current.state.profile is not None
    command = WithdrawTrainee(trainee_id, body.reason, now.date())
    meta = command_metadata(principal, cmd.idempotency_key, now,
                            branch_id=current.state.profile.branch_id,
                            roles=CLERK_FIRST)  # fmt: skip
    outcome = await run(request, trainee_id, command, meta, cmd.expected)
    response.headers["ETag"] = etag(outcome.version)
    return {"trainee_id": trainee_id, "status": outcome.state.status, "version": outcome.version}


@router.get("/trainees/{trainee_id}")
async def get_trainee(
    trainee_id: str, principal: ProfileReader, request: Request, response: Response
) -> dict[str, Any]:
    """The trainee's profile, status and placement, read from its own stream (never stale)."""
    current = await visible_trainee(request, principal, trainee_id, audiences.PROFILE)
    response.headers["ETag"] = etag(current.version)
    return profile_json(current.state, current.version)


def profile_json(state: Trainee, version: int) -> dict[str, Any]:
    p, placement = state.profile, state.placement
    assert p is not None
    return {
        "trainee_id": p.trainee_id, "name": p.name, "category": p.category,
        "branch_id": p.branch_id, "education": p.education,
        "experience_years": str(p.experience_years), "certificates": p.certificates,
        "product_series": p.product_series, "enrolled_on": p.enrolled_on,
        "status": state.status,
        "position": placement.position if placement else None,
        "plan_level": placement.plan_level if placement else None,
        "placement": None if placement is None else {
            "written": str(placement.written),
            "practical": None if placement.practical is None else str(placement.practical),
            "average": str(placement.average), "policy_version": placement.policy_version,
            "rule_trace": placement.rule_trace,
        },
        "version": version,
    }  # fmt: skip


@router.get("/trainees")
async def list_trainees(
    principal: Lister,
    request: Request,
    branch_id: Annotated[str | None, Query(max_length=64)] = None,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: KeyCursor | None = None,
) -> dict[str, Any]:
    """Trainees by branch and category, paginated; a branch clerk lists its own branch only."""
    branch_id = audiences.LISTING.branch_of_list(principal, branch_id)
    rows = await request.app.state.pool.fetch(
        "SELECT trainee_id, name, category, branch_id, education, experience_years, certificates,"
        " product_series, enrolled_on, status, position, plan_level, version"
        " FROM proj_directory.trainees WHERE ($1::text IS NULL OR branch_id = $1)"
        " AND ($2::text IS NULL OR category = $2) AND ($3::text IS NULL OR trainee_id > $3)"
        " ORDER BY trainee_id LIMIT $4",
        branch_id, category, cursor, limit + 1,
    )  # fmt: skip
    items = [{**r, "experience_years": str(r["experience_years"])} for r in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_cursor(items[-1]["trainee_id"]) if more else None}
