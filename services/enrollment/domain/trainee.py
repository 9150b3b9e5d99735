"""The Trainee aggregate: enrolment (R-1 to R-4), placement (R-6), withdrawal. Pure: the branch
an enrolment names comes in the command, as the registry holds it (:mod:`.branch`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from shared.decider import Conflict, Decider, InvalidCommand, NotFound, RuleViolation
from shared.events import Event

from ..policy.placement import PLACEMENT, place
from .branch import open_branch
from .commands import Command, EnrollTrainee, RegisteredBranch, ScorePlacement, WithdrawTrainee
from .events import PlacementExamScored, TraineeEnrolled, TraineeWithdrawn
from .vocabulary import BranchKind, Category, Status

MAX_SCORE = Decimal(100)


@dataclass(frozen=True)
class Trainee:
    profile: TraineeEnrolled | None = None
    placement: PlacementExamScored | None = None
    withdrawal: TraineeWithdrawn | None = None

    @property
    def status(self) -> Status | None:
        if self.profile is None:
            return None
        if self.withdrawal is not None:
            return Status.WITHDRAWN
        return Status.PLACED if self.placement is not None else Status.ENROLLED


def stream_id(trainee_id: str) -> str:
    return f"trainee-{trainee_id}"


def initial() -> Trainee:
    return Trainee()


def evolve(state: Trainee, event: Event) -> Trainee:
    match event:
        case TraineeEnrolled():
            return replace(state, profile=event)
        case PlacementExamScored():
            return replace(state, placement=event)
        case TraineeWithdrawn():
            return replace(state, withdrawal=event)
    return state


def decide(command: Command, state: Trainee) -> list[Event]:
    match command:
        case EnrollTrainee():
            return [_enroll(command, state)]
        case ScorePlacement():
            return [_score_placement(command, _active(state))]
        case WithdrawTrainee():
            return [_withdraw(command, _active(state))]
    raise TypeError(f"unknown command {command!r}")


TRAINEE = Decider(initial, evolve, decide)


def _active(state: Trainee) -> Trainee:
    if state.profile is None:
        raise NotFound("no such trainee")
    if state.withdrawal is not None:
        raise Conflict(f"trainee {state.profile.trainee_id} has withdrawn")
    return state


def _enroll(c: EnrollTrainee, state: Trainee) -> TraineeEnrolled:
    if state.profile is not None:
        raise Conflict(f"trainee {c.trainee_id} is already enrolled")
    name = c.name.strip()
    if not name:
        raise InvalidCommand("name", "must not be empty", "R-3")
    if c.experience_years < 0:
        raise InvalidCommand("experience_years", "must be 0 or more", "R-3")
    if c.enrolled_on > c.today:
        raise InvalidCommand("enrolled_on", f"{c.enrolled_on} is in the future", "R-3")
    _check_branch(c.category, c.branch_id, c.branch)
    certificates = _distinct("certificates", c.certificates)
    return TraineeEnrolled(
        trainee_id=c.trainee_id,
        name=name,
        category=c.category,
        branch_id=c.branch_id,
        education=c.education,
        experience_years=c.experience_years,
        certificates=certificates,
        certificate_count=len(certificates),
        product_series=_distinct("product_series", c.product_series),
        enrolled_on=c.enrolled_on,
    )


def _check_branch(category: Category, branch_id: str, found: RegisteredBranch | None) -> None:
    """R-2: the branch is a registered one, still open (the registry's answer, ``found``).
    R-1: HQ and production staff belong to the HQ; commissioned staff to a branch or dealer."""
    branch = open_branch(branch_id, found, "takes no new enrolments")
    at_hq = branch.kind is BranchKind.HQ
    if (category is Category.BRANCH_COMMISSIONED) == at_hq:
        where = "a branch office or dealer" if not at_hq else "the HQ"
        raise InvalidCommand(
            "category", f"{category.value} trainees do not belong to {where} ({branch_id})", "R-1"
        )


def _distinct(field: str, values: tuple[str, ...]) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise InvalidCommand(field, "entries must not be empty", "R-3")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidCommand(field, "entries must be distinct", "R-3")
    return cleaned


def check_score(field: str, score: Decimal) -> Decimal:
    """R-17: a score is 0-100 with at most one decimal place."""
    if not Decimal(0) <= score <= MAX_SCORE:
        raise InvalidCommand(field, f"{score} is outside 0-100", "R-17")
    if score != score.quantize(Decimal("0.1")):
        raise InvalidCommand(field, f"{score} has more than one decimal place", "R-17")
    return score


def _score_placement(c: ScorePlacement, state: Trainee) -> PlacementExamScored:
    if state.placement is not None:
        raise RuleViolation("R-6", "the placement exam is already scored")
    written = check_score("written", c.written)
    practical = None if c.practical is None else check_score("practical", c.practical)
    result = place(written, practical, c.policy or PLACEMENT.in_force(c.today))
    return PlacementExamScored(
        trainee_id=c.trainee_id,
        written=written,
        practical=practical,
        average=result.average,
        position=result.position,
        plan_level=result.plan_level,
        policy_version=result.policy_version,
        rule_trace=list(result.rule_trace),
        scored_on=c.today,
    )


def _withdraw(c: WithdrawTrainee, state: Trainee) -> TraineeWithdrawn:
    reason = c.reason.strip()
    if not reason:
        raise InvalidCommand("reason", "must not be empty")
    return TraineeWithdrawn(trainee_id=c.trainee_id, reason=reason, withdrawn_on=c.today)
