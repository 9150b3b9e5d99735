"""Load -> decide -> append for the compensation commands (:mod:`shared.execution`).

Each handler takes its dependencies explicitly (:class:`Dependencies`: the pay accounts and
payrolls, the employees enrollment told compensation of, what a month's run is computed from),
the command or the month, and the :class:`CommandContext` (who asks, under which key, on which
version, when), and returns the :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared.commands import CommandContext
from shared.decider import Conflict
from shared.execution import Aggregates, Outcome
from shared.policy import UnknownPolicyVersion
from shared.policy_store import PolicyShelf
from shared.problems import not_arrived

from .domain.account import PAY_ACCOUNT, PayAccount, account_stream
from .domain.commands import RatePerformance, RecordPieceRate, RecordTravelDays, RunPayroll
from .domain.employment import check_recordable
from .domain.fees import branch_fees, trainer_fines
from .domain.months import Month
from .domain.payroll import PAYROLL, Payroll, payroll_stream
from .policy.pay import PayPolicy
from .upstream import FindEmployee, MonthFacts

PayInput = RecordTravelDays | RecordPieceRate | RatePerformance


@dataclass(frozen=True, slots=True)
class Dependencies:
    aggregates: Aggregates  # pay accounts and monthly payrolls
    find_employee: FindEmployee  # the employees whose enrolment arrived (upstream.py)
    month_facts: Callable[[Month, PayPolicy], Awaitable[MonthFacts]]  # a run's inputs
    policies: PolicyShelf  # the app's books: what a command decides with (docs/policy.md)


async def record(
    deps: Dependencies, command: PayInput, context: CommandContext, *, conn: Any = None
) -> Outcome[PayAccount]:
    """Record a month's pay input for a known employee whom the company pays (R-31).
    ``conn``: inside that transaction (a sheet's rows, :mod:`.pay_imports`)."""
    employee = await deps.find_employee(command.employee_id)
    if employee is None or employee.category is None:
        raise not_arrived(f"no employee {command.employee_id} is known to compensation (yet)")
    policy = await deps.policies.in_force("pay", context.today)
    check_recordable(employee.category, command, policy)
    return await deps.aggregates.execute(
        PAY_ACCOUNT,
        account_stream(command.employee_id),
        command,
        context.meta(employee.branch_id),
        expected_version=context.expected,
        conn=conn,
    )


async def run_payroll(
    deps: Dependencies, month: Month, context: CommandContext
) -> Outcome[Payroll]:
    """Issue the month's payslips, branch fees and trainer fines: the payroll decider issues
    only what differs from what the month already holds (R-32: a rerun with the same inputs
    issues nothing; changed inputs issue corrections beside the old payslips; R-33: charges
    once each). Two runs at once are safe: the loser is re-decided on fresh state."""
    # The version in force at the month's end governs its payroll parameters (rates carry theirs).
    try:
        policy = await deps.policies.in_force("pay", month.last_day)
        fee = await deps.policies.in_force("fees", month.last_day)
    except UnknownPolicyVersion:
        raise Conflict(f"no pay policy is in force in {month}: it has no payroll") from None
    facts = await deps.month_facts(month, policy)
    fees = branch_fees(str(month), facts.dispositions, facts.training_days, fee)
    fines = trainer_fines(str(month), facts.penalties)
    command = RunPayroll(str(month), tuple(facts.payslips), tuple(fees), tuple(fines))
    return await deps.aggregates.execute(
        PAYROLL,
        payroll_stream(str(month)),
        command,
        context.meta(None),
        expected_version=context.expected,
    )
