"""A month's pay inputs from a spreadsheet (``POST /imports/pay-inputs/{month}``, the workbench's
payroll grid "from a sheet"): the import machinery of :mod:`shared.sheet_imports` applied to
travel days, piece-rate wages and performance ratings. Every row is checked first as its own
``POST /employees/{id}/travel``, ``/piece-rate`` and ``/performance`` would be (the request
model, the employee known to compensation and paid by the company (R-31), the inputs its
category is paid on (R-27, R-28), then the pay account's decider: at most the month's days),
plus what only a file has (the same employee twice, a row that records nothing). A file without
a bad row is recorded whole, in one transaction; otherwise nothing is stored and the 422 lists
each problem by row and column.
"""

from __future__ import annotations

from datetime import date

from shared.commands import CommandContext
from shared.decider import InvalidCommand, RuleViolation
from shared.sheet_imports import (
    Layout,
    Problem,
    Transaction,
    checked,
    problem,
    refused,
    row_context,
    rows_of,
    sheet_of,
)

from . import handlers
from .domain.account import PAY_ACCOUNT, account_stream
from .domain.commands import RatePerformance, RecordPieceRate, RecordTravelDays
from .domain.employment import check_recordable
from .domain.months import Month
from .schemas import PayInputRow

PAY_INPUTS = Layout(
    columns={
        "employee_id": ("employee_id", "员工编号", "工号", "学员编号"),
        "name": ("name", "姓名"),
        "travel_days": ("travel_days", "出差天数"),
        "piece_rate": ("piece_rate", "计件工资"),
        "rating": ("rating", "绩效评分", "绩效"),
    },
    words={},
    optional=frozenset({"name", "travel_days", "piece_rate", "rating"}),
)
INPUTS = ("travel_days", "piece_rate", "rating")
Inputs = list[tuple[str, handlers.PayInput]]  # a row's commands, each with its column


def commands(row: PayInputRow, month: Month, recorded_by: str) -> Inputs:
    """The row's inputs as the commands their routes send, each with its column."""
    found: Inputs = []
    if row.travel_days is not None:
        travel = RecordTravelDays(row.employee_id, str(month), row.travel_days, recorded_by)
        found.append(("travel_days", travel))
    if row.piece_rate is not None:
        piece = RecordPieceRate(row.employee_id, str(month), row.piece_rate)
        found.append(("piece_rate", piece))
    if row.rating is not None:
        found.append(("rating", RatePerformance(row.employee_id, str(month), row.rating)))
    return found


async def refusals(
    deps: handlers.Dependencies, number: int, inputs: Inputs, today: date
) -> list[Problem]:
    """What compensation says of one row's commands (nothing: they would be recorded)."""
    employee_id = inputs[0][1].employee_id
    employee = await deps.find_employee(employee_id)
    if employee is None or employee.category is None:
        unknown = f"no employee {employee_id} is known to compensation"
        return [problem(number, "employee_id", unknown)]
    policy = await deps.policies.in_force("pay", today)
    state, _ = await deps.aggregates.load(PAY_ACCOUNT, account_stream(employee_id))
    problems: list[Problem] = []
    for column, command in inputs:
        try:
            check_recordable(employee.category, command, policy)
            state = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, state), state)
        except (InvalidCommand, RuleViolation) as exc:
            problems.append(problem(number, column, exc.detail, exc.rule))
    return problems


async def import_pay_inputs(
    deps: handlers.Dependencies,
    month: Month,
    data: bytes,
    context: CommandContext,
    transaction: Transaction,
) -> list[tuple[int, str, list[str]]]:
    """Record every row's inputs for ``month``, or none; each row's number, employee and the
    columns recorded, in file order."""
    valid, problems = checked(rows_of(sheet_of(data), PAY_INPUTS), PayInputRow, "employee_id")
    rows: list[tuple[int, Inputs]] = []
    for number, row in valid:
        inputs = commands(row, month, context.actor_id)
        if not inputs:
            problems.append(problem(number, "row", "records nothing: " + ", ".join(INPUTS)))
            continue
        problems += await refusals(deps, number, inputs, context.today)
        rows.append((number, inputs))
    if problems:
        raise refused(problems)
    async with transaction() as conn:
        for _, inputs in rows:
            for column, command in inputs:
                stream = f"{account_stream(command.employee_id)}/{column}"
                await handlers.record(deps, command, row_context(context, stream), conn=conn)
    return [(n, inputs[0][1].employee_id, [c for c, _ in inputs]) for n, inputs in rows]
