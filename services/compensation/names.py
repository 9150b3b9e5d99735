"""The names people read beside the ids of the month's views and exports: an employee's (a
trainee's) from its enrolment (``known_employees.name``), a trainer's from the staff enrollment
registered, a branch's in Chinese and English (shared.directory). A name not arrived yet reads as
the id: the views never fail for want of one."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from shared import directory
from shared.events import JsonDict


async def employee_names(pool: asyncpg.Pool, employee_ids: Iterable[str]) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT employee_id, name FROM known_employees"
        " WHERE employee_id = ANY($1::text[]) AND name IS NOT NULL",
        sorted(set(employee_ids)),
    )
    return {r["employee_id"]: r["name"] for r in rows}


async def named_payroll(pool: asyncpg.Pool, view: JsonDict) -> JsonDict:
    """The payroll view with ``employee_name`` beside each payslip's ``employee_id``."""
    names = await employee_names(pool, (p["employee_id"] for p in view["history"]))

    def named(payslips: list[JsonDict]) -> list[JsonDict]:
        return directory.with_names(payslips, names, "employee_id", "employee_name")

    return {**view, "payslips": named(view["payslips"]), "history": named(view["history"])}


async def named_fees(pool: asyncpg.Pool, rows: list[JsonDict]) -> list[JsonDict]:
    """Fee rows with the branch's names (zh, en) and the trainee's name."""
    branches = await directory.branch_names(pool, (r["branch_id"] for r in rows))
    trainees = await employee_names(pool, (r["trainee_id"] for r in rows))
    with_branches = directory.with_branch_names(rows, branches)
    return directory.with_names(with_branches, trainees, "trainee_id", "trainee_name")


async def named_fines(pool: asyncpg.Pool, rows: list[JsonDict]) -> list[JsonDict]:
    """Fine rows with the trainer's name."""
    trainers = await directory.staff_names(pool, (r["trainer_id"] for r in rows))
    return directory.with_names(rows, trainers, "trainer_id", "trainer_name")
