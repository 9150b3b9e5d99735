"""``POST /what-if`` (pay and fees drafts) and ``POST /what-if/pay`` (the pay consequences of the
grades a grading draft re-derives, asked by assessment's ``POST /what-if`` with the caller's
token). Both read and compute; neither appends anything (docs/what-if.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.policy import PolicyBook
from shared.policy_store import document_of, shelf_of
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
from .domain.vocabulary import Level, Position
from .policy.pay import FeesPolicy, PayPolicy
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


async def sides(
    request: Request, body: WhatIfRequest
) -> tuple[Scenario, Scenario, PolicyBook[PayPolicy]]:
    """The policies in force (the app's books) and the drafted ones, and the pay book; 422
    listing every problem of the drafts. A fees draft names only what it changes."""
    problems: Problems = check_request(body, COVERED, ELSEWHERE)
    shelf = shelf_of(request.app.state)
    pay: PolicyBook[PayPolicy] = await shelf.book("pay")
    fees: PolicyBook[FeesPolicy] = await shelf.book("fees")
    in_force_on(pay, body.to, problems)
    fees_in_force = in_force_on(fees, body.to, problems)
    table = fee = None
    if "pay" in body.policies:
        table = fill_draft(PayPolicy, body.policies["pay"], body.from_, "pay", problems)
    if "fees" in body.policies and fees_in_force is not None:
        merged = {**document_of(fees_in_force), **body.policies["fees"]}
        fee = fill_draft(FeesPolicy, merged, body.from_, "fees", problems)
    if problems:
        raise refused(problems)
    before = Scenario(lambda m: pay.in_force(m.last_day), lambda m: fees.in_force(m.last_day))
    after = Scenario(
        before.parameters if table is None else (lambda _: table),
        before.fees if fee is None else (lambda _: fee),
        table,
    )
    return before, after, pay


async def weigh(
    request: Request, body: WhatIfRequest, grades: Sequence[GradeBody], everyone: bool
) -> tuple[list[EmployeePay], dict[str, Any], list[Any]]:
    before, after, book = await sides(request, body)
    months = months_between(body.from_, body.to)
    ids = None if everyone or after.rates is not None else sorted({g.trainee_id for g in grades})
    pool = request.app.state.pool
    staff = await employees(pool, ids, body.branch_ids, months)
    drafts: dict[str, list[DraftGrade]] = {}
    for g in grades:
        draft = DraftGrade(g.trainee_id, g.grade_event_id, g.position, g.level, g.decided_on)
        drafts.setdefault(g.trainee_id, []).append(draft)
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
