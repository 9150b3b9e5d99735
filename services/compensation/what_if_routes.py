"""``POST /what-if`` (pay and fees drafts) and ``POST /what-if/pay`` (the pay consequences of the
grades a grading draft re-derives, asked by assessment's ``POST /what-if`` with the caller's
token). Both read and compute; neither appends anything (docs/what-if.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.policy import PolicyBook
from shared.requests import Money
from shared.what_if import (
    Day,
    PayWhatIfAnswer,
    Problems,
    WhatIfAnswer,
    WhatIfRequest,
    check_request,
    fill_draft,
    in_force_on,
    refused,
)

from .audiences import Planner
from .domain.account import rate_on
from .domain.months import Month
from .domain.vocabulary import Level, Position
from .policy.pay import PAY, PayPolicy
from .what_if import (
    DraftGrade,
    EmployeePay,
    Scenario,
    compare_fees,
    compare_pay,
    cost_delta,
    months_between,
)
from .what_if_reads import employees, fee_facts

router = APIRouter(tags=["what-if"])
MonthKey = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
COVERED = ("pay", "fees")
ELSEWHERE = {"grading": "assessment", "fines": "assessment"}


def policies_in_force(request: Request) -> PolicyBook[PayPolicy]:
    """The pay policy in force (its book of versions): the one place what-if takes it from."""
    return PAY


class GradeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trainee_id: Annotated[str, Field(min_length=1, max_length=64)]
    grade_event_id: UUID
    position: Position
    level: Level | None = None
    decided_on: Day


class PayWhatIfRequest(WhatIfRequest):
    """What assessment asks: the grades its draft re-derives differently, and its fines."""

    grades: Annotated[list[GradeBody], Field(max_length=5_000)] = []  # fits 1 MiB
    fines: dict[MonthKey, tuple[Money, Money]] = {}  # month -> (in force, draft)


def sides(request: Request, body: WhatIfRequest) -> tuple[Scenario, Scenario]:
    """The policy in force and the drafted one; 422 listing every problem of the drafts."""
    problems: Problems = check_request(body, COVERED, ELSEWHERE)
    book = policies_in_force(request)
    base = in_force_on(book, body.to, problems)
    table = None
    if "pay" in body.policies:
        table = fill_draft(PayPolicy, body.policies["pay"], body.from_, "pay", problems)
    fee = None
    if "fees" in body.policies and base is not None:
        merged = {**(table or base).model_dump(mode="json"), **body.policies["fees"]}
        fee = fill_draft(PayPolicy, merged, body.from_, "fees", problems)
    if problems:
        raise refused(problems)
    before = Scenario(lambda m: book.in_force(m.last_day))
    return before, Scenario(_drafted(book, table, fee), table)


def _drafted(
    book: PolicyBook[PayPolicy], table: PayPolicy | None, fee: PayPolicy | None
) -> Callable[[Month], PayPolicy]:
    def parameters(month: Month) -> PayPolicy:
        policy = table or book.in_force(month.last_day)
        if fee is None:
            return policy
        return policy.model_copy(
            update={"branch_fee_per_training_day": fee.branch_fee_per_training_day}
        )

    return parameters


async def weigh(
    request: Request, body: WhatIfRequest, grades: Sequence[GradeBody], everyone: bool
) -> tuple[list[EmployeePay], dict[str, Any], list[Any]]:
    before, after = sides(request, body)
    months = months_between(body.from_, body.to)
    ids = None if everyone or after.rates is not None else sorted({g.trainee_id for g in grades})
    pool = request.app.state.pool
    staff = await employees(pool, ids, body.branch_ids, months)
    drafts: dict[str, list[DraftGrade]] = {}
    for g in grades:
        draft = DraftGrade(g.trainee_id, g.grade_event_id, g.position, g.level, g.decided_on)
        drafts.setdefault(g.trainee_id, []).append(draft)
    book = policies_in_force(request)
    first, last = months[0].first_day, months[-1].last_day
    decided, days = await fee_facts(pool, first, last, body.branch_ids)
    try:
        pay = compare_pay(staff, drafts, months, before, after, book.in_force)
        fees = compare_fees(months, decided, days, before, after)
    except LookupError as missing:
        problem = {"field": "policies.pay.rows", "message": str(missing), "type": "missing"}
        raise refused([problem]) from None
    except ArithmeticError:  # decimal's 28 digits: an amount no policy means
        problem = {"field": "policies.pay", "message": "an amount is too large", "type": "size"}
        raise refused([problem]) from None
    fines = body.fines if isinstance(body, PayWhatIfRequest) else {}
    return pay, cost_delta(pay, fees, fines, months), staff


def _pay_change(p: EmployeePay) -> dict[str, Any]:
    before, after = sum(p.before.values(), Decimal(0)), sum(p.after.values(), Decimal(0))
    return {
        "employee_id": p.employee_id,
        "branch_id": p.branch_id,
        "before": str(before),
        "after": str(after),
        "delta": str(after - before),
        "months": {
            m: [str(p.before[m]), str(p.after[m])] for m in p.before if p.before[m] != p.after[m]
        },
    }


@router.post("/what-if/pay", response_model=PayWhatIfAnswer)
async def what_if_pay(body: PayWhatIfRequest, _: Planner, request: Request) -> dict[str, Any]:
    """The pay and fee consequences of re-derived grades (assessment's ``POST /what-if`` asks,
    with its caller's token) under the pay policy in force and a pay or fees draft; appends
    nothing. ``employees``: whose pay changes, with the period's totals."""
    pay, cost, _staff = await weigh(request, body, body.grades, everyone=False)
    return {
        "employees": [_pay_change(p) for p in pay if p.changed],
        "monthly_cost_delta": cost,
    }


@router.post("/what-if", response_model=WhatIfAnswer)
async def what_if(body: WhatIfRequest, _: Planner, request: Request) -> dict[str, Any]:
    """A pay or fees draft weighed over the period and branches beside the policy in force:
    whose pay changes, the board (positions are not changed by pay drafts) and the monthly cost
    difference; appends nothing. Grading and fines drafts: assessment's ``POST /what-if``."""
    pay, cost, staff = await weigh(request, body, (), everyone=True)
    board = _board(staff, body.to)
    return {
        "changes": [
            {
                "trainee_id": p.employee_id,
                "branch_id": p.branch_id,
                "before": {"pay": c["before"]},
                "after": {"pay": c["after"]},
                "pay_delta": c["delta"],
            }
            for p in pay
            if p.changed
            for c in [_pay_change(p)]
        ],
        "board_before": board,
        "board_after": board,
        "monthly_cost_delta": cost,
    }


def _board(staff: Sequence[Any], on: date) -> list[dict[str, Any]]:
    """Counts by branch x position x level of the rates in force on ``on``."""
    counts: Counter[tuple[str, str, str | None]] = Counter()
    for e in staff:
        rate = rate_on(e.account, on)
        if rate is not None:
            counts[(e.branch_id, str(rate.position), rate.level and str(rate.level))] += 1
    return [
        {"branch_id": b, "position": p, "level": lv, "count": n}
        for (b, p, lv), n in sorted(counts.items(), key=lambda kv: tuple(x or "" for x in kv[0]))
    ]
