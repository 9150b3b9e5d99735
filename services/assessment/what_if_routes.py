"""``POST /what-if`` and ``POST /what-if/report.xlsx``: grades and trainer fines re-derived under
a draft policy beside the policy in force, with the pay and fee consequences compensation
computes (``POST /what-if/pay`` there, with the caller's token). Nothing is appended anywhere
(docs/what-if.md, docs/adr/0017-what-if.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from shared import directory
from shared.auth import Principal
from shared.policy import PolicyBook
from shared.policy_store import document_of, shelf_of
from shared.problems import Problem
from shared.requests import request_now
from shared.what_if import (
    Problems,
    WhatIfAnswer,
    WhatIfRequest,
    check_request,
    fill_draft,
    in_force_on,
    refused,
)

from .audiences import WHAT_IF
from .policy.grading import FinesPolicy, GradingPolicy
from .what_if import Refined, Regraded, boards, fines_by_month, refine, regrade
from .what_if_reads import decisions, penalties
from .what_if_report import XLSX, report

router = APIRouter(tags=["what-if"])
P = TypeVar("P", GradingPolicy, FinesPolicy)
Planner = Annotated[Principal, Depends(WHAT_IF.gate())]
COVERED = ("grading", "fines", "pay", "fees")
PAY_POLICIES = ("pay", "fees")  # weighed by compensation
CENT = Decimal("0.01")
MAX_CHANGED = 5_000  # compensation's POST /what-if/pay takes this many grades (1 MiB bodies)


@dataclass(frozen=True)
class Sides:
    """The policies weighed: (in force on the period's end, draft) for grading and fines; a
    policy without a draft is weighed against itself."""

    grading: tuple[GradingPolicy, GradingPolicy]
    fines: tuple[FinesPolicy, FinesPolicy]


async def drafted(request: Request, body: WhatIfRequest) -> Sides:
    """The app's books in force and the drafts, each draft laid over the document in force so
    that it names only what it changes. 422 listing every problem of the request."""
    problems: Problems = check_request(body, COVERED)
    shelf = shelf_of(request.app.state)
    grading = _sides(await shelf.book("grading"), GradingPolicy, "grading", body, problems)
    fines = _sides(await shelf.book("fines"), FinesPolicy, "fines", body, problems)
    if grading is not None:
        _same_departments(*grading, problems)
    if problems or grading is None or fines is None:
        raise refused(problems)
    return Sides(grading, fines)


def _sides(
    book: PolicyBook[P], model: type[P], name: str, body: WhatIfRequest, problems: Problems
) -> tuple[P, P] | None:
    in_force = in_force_on(book, body.to, problems)
    document = body.policies.get(name)
    if in_force is None or document is None:
        return None if in_force is None else (in_force, in_force)
    draft = fill_draft(model, {**document_of(in_force), **document}, body.from_, name, problems)
    return None if draft is None else (in_force, draft)


def _same_departments(in_force: GradingPolicy, draft: GradingPolicy, problems: Problems) -> None:
    """R-16: the recorded practical scores are by department; a draft naming other departments
    could not re-derive them."""
    if set(draft.practical_departments) != set(in_force.practical_departments):
        text = "what-if re-derives the recorded scores: the practical departments stay as in force"
        field = "policies.grading.practical_departments"
        problems.append({"field": field, "message": text, "type": "departments"})


async def ask_compensation(
    request: Request, body: WhatIfRequest, changed: list[Regraded], fines: dict[str, Any]
) -> dict[str, Any]:
    """compensation's ``POST /what-if/pay`` for the changed grades, with the caller's token;
    ``fines``: month -> [in force, draft], in yuan to the cent."""
    payload = {
        "policies": {k: v for k, v in body.policies.items() if k in PAY_POLICIES},
        "from": body.from_.isoformat(),
        "to": body.to.isoformat(),
        "branch_ids": body.branch_ids,
        "grades": [_grade(r) for r in changed],
        "fines": fines,
    }
    state = request.app.state
    headers = {"Authorization": request.headers.get("Authorization", "")}
    transport = getattr(state, "compensation_transport", None)  # tests: compensation in process
    base = state.settings.compensation_base_url()
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=60) as client:
        try:
            answer = await client.post("/what-if/pay", json=payload, headers=headers)
        except httpx.HTTPError as failed:
            raise _unavailable(f"compensation cannot be reached: {failed}") from None
    if answer.status_code == 422:
        raise refused(answer.json().get("errors", []))
    if answer.status_code != 200:
        raise _unavailable(f"compensation answered {answer.status_code}")
    result: dict[str, Any] = answer.json()
    return result


def _cents(amount: Decimal) -> str:
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def _unavailable(detail: str) -> Problem:
    return Problem(503, detail=detail, headers={"Retry-After": "5"})


def _grade(r: Regraded) -> dict[str, Any]:
    """The draft's decision as pay reads it: no position (failed, or no eligibility) is reserve."""
    after = r.after
    return {
        "trainee_id": r.decided.trainee_id,
        "grade_event_id": str(r.decided.event_id),
        "position": after.position if after.passed and after.position else "reserve",
        "level": after.level if after.passed and after.position else None,
        "decided_on": r.decided.decided_on.isoformat(),
    }


async def evaluate(request: Request, body: WhatIfRequest) -> dict[str, Any]:
    sides = await drafted(request, body)
    regraded, refined, fines = await rederive(request, body, sides)
    changed = [r for r in regraded if r.changed]
    if len(changed) > MAX_CHANGED:
        text = (
            f"the draft changes {len(changed)} grades; what-if weighs at most {MAX_CHANGED} at"
            " once: choose a shorter period or fewer branches"
        )
        raise refused([{"field": "policies.grading", "message": text, "type": "too_many"}])
    pay = await ask_compensation(request, body, changed, fines)
    board_before, board_after = boards(regraded)
    return {
        "changes": _changes(regraded, pay["employees"]),
        "board_before": board_before,
        "board_after": board_after,
        "fines": [f.json() for f in refined if f.changed],
        "monthly_cost_delta": pay["monthly_cost_delta"],
        "policy_in_force": sides.grading[0].version,
    }


async def rederive(
    request: Request, body: WhatIfRequest, sides: Sides
) -> tuple[list[Regraded], list[Refined], dict[str, list[str]]]:
    """The period's decisions and penalties of the branches under both policies, and the fines
    of each month on both sides, in yuan to the cent."""
    state = request.app.state
    found = await decisions(state, body.from_, body.to, body.branch_ids)
    penalised = await penalties(state, body.from_, body.to, body.branch_ids)
    try:
        regraded = regrade(found, *sides.grading)
        refined = refine(penalised, regraded, *sides.fines)
        fines = {m: [_cents(b), _cents(a)] for m, (b, a) in fines_by_month(refined).items()}
    except ArithmeticError:  # decimal's 28 digits: an amount or score no policy means
        problem = {"field": "policies.grading", "message": "a number is too large", "type": "size"}
        raise refused([problem]) from None
    return regraded, refined, fines


def _changes(regraded: list[Regraded], employees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every trainee whose grade or pay changes, with both outcomes and the period's pay."""
    pay = {e["employee_id"]: e for e in employees}
    graded = {r.decided.trainee_id: r for r in regraded}
    found = []
    for trainee_id in sorted(set(pay) | {t for t, r in graded.items() if r.changed}):
        r, p = graded.get(trainee_id), pay.get(trainee_id)
        before = r.before.json() if r else {}
        after = r.after.json() if r else {}
        zero = "0.00"
        found.append(
            {
                "trainee_id": trainee_id,
                "branch_id": r.decided.branch_id if r else p and p["branch_id"],
                "before": {**before, "pay": p["before"] if p else zero},
                "after": {**after, "pay": p["after"] if p else zero},
                "pay_delta": p["delta"] if p else zero,
            }
        )
    return found


class DraftStart(BaseModel):
    """The documents a draft starts from: the grading and fines policies in force on ``on``."""

    on: date
    version: str
    grading: dict[str, Any]
    fines_version: str
    fines: dict[str, Any]


@router.get("/what-if/policies", response_model=DraftStart)
async def draft_start(_: Planner, request: Request, on: date | None = None) -> dict[str, Any]:
    """The grading document in force on ``on`` (default: today), without its version and date:
    where the dashboard's draft starts (the bands, pass marks, eligibility and fine tiers)."""
    day = on or request_now(request).date()
    problems: Problems = []
    shelf = shelf_of(request.app.state)
    grading = in_force_on(await shelf.book("grading"), day, problems)
    fines = in_force_on(await shelf.book("fines"), day, problems)
    if grading is None or fines is None:
        raise refused([{**p, "field": "query.on"} for p in problems[:1]])
    return {
        "on": day,
        "version": grading.version,
        "grading": document_of(grading),
        "fines_version": fines.version,
        "fines": document_of(fines),
    }


@router.post("/what-if", response_model=WhatIfAnswer)
async def what_if(body: WhatIfRequest, _: Planner, request: Request) -> dict[str, Any]:
    """Weigh drafts (`grading`, `fines`, `pay`, `fees`) over a period and branches beside the
    policy in force: whose grade or pay changes and by how much, counts by branch x position x
    level before and after, and the monthly cost difference. Appends nothing anywhere."""
    return await evaluate(request, body)


@router.post(
    "/what-if/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def what_if_report(body: WhatIfRequest, _: Planner, request: Request) -> Response:
    """``POST /what-if`` as a spreadsheet: changes, counts and monthly cost, headers in Chinese
    and English, branches named."""
    answer = await evaluate(request, body)
    branches = {r["branch_id"] for r in answer["board_before"] + answer["board_after"]}
    branches |= {c["branch_id"] for c in answer["changes"]}
    names = await directory.branch_names(request.app.state.pool, branches)
    disposition = f'attachment; filename="what-if-{body.from_}-{body.to}.xlsx"'
    return Response(
        report(answer, names), media_type=XLSX, headers={"Content-Disposition": disposition}
    )
