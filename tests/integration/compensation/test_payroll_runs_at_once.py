"""A month's payroll run reads the pay accounts chunk by chunk and appends every payslip in one
append to the month's stream: two runs of the same month at once issue each payslip once."""

from __future__ import annotations

import asyncio

import pytest

from services.compensation import upstream
from tests.integration.compensation.upstream import (
    amounts,
    count_events,
    deliver,
    enrolled,
    graded,
    payslips,
    run,
)

GRADES = [("engineer", "intermediate"), ("technician", "junior"), ("engineer", "senior")]
EMPLOYEES = [f"t-{n:02d}" for n in range(7)]


@pytest.fixture
async def staff(svc, monkeypatch):
    # Three accounts per read: seven employees take three reads, the last one short.
    monkeypatch.setattr(upstream, "ACCOUNT_CHUNK", 3)
    for n, employee in enumerate(EMPLOYEES):
        await deliver(svc, enrolled(employee), graded(employee, *GRADES[n % len(GRADES)]))
    return svc


async def test_every_employee_of_every_chunk_gets_one_payslip_as_computed_alone(staff):
    answer = await run(staff)
    assert answer.status_code == 200, answer.text
    issued = answer.json()["payslips"]
    assert sorted(p["employee_id"] for p in issued) == EMPLOYEES
    by_grade = {}
    for n, employee in enumerate(EMPLOYEES):
        slip = next(p for p in (await payslips(staff))["payslips"] if p["employee_id"] == employee)
        by_grade.setdefault(GRADES[n % len(GRADES)], set()).add(
            (slip["total"], tuple(sorted(amounts(slip).items())))
        )
    # Employees of one grade are paid alike, wherever their account fell among the reads.
    assert all(len(paid) == 1 for paid in by_grade.values())
    assert {total for paid in by_grade.values() for total, _ in paid} >= {"3200.00"}


async def test_two_runs_of_a_month_at_once_issue_each_payslip_once(staff):
    answers = await asyncio.gather(run(staff), run(staff))
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([200, 200], [200, 409]), [a.text for a in answers]
    issued = [a.json()["issued"]["payslips"] for a in answers if a.status_code == 200]
    # One run appended the month's payslips; the other found them there (decided again on the
    # stream's new version: the same inputs, nothing to issue) or was refused with a 409.
    assert sorted(issued) in ([0, len(EMPLOYEES)], [len(EMPLOYEES)])
    assert await count_events(staff, "PayslipIssued") == len(EMPLOYEES)
    winner = next(a.json() for a in answers if a.status_code == 200 and a.json()["payslips"])
    stored = (await payslips(staff))["payslips"]
    assert sorted((p["employee_id"], p["payslip_id"], p["total"]) for p in stored) == sorted(
        (p["employee_id"], p["payslip_id"], p["total"]) for p in winner["payslips"]
    )
    again = await run(staff)
    assert again.json()["issued"]["payslips"] == 0
    assert await count_events(staff, "PayslipIssued") == len(EMPLOYEES)
