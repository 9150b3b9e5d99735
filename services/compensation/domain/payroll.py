"""The Payroll aggregate, one per month (stream ``payroll-<YYYY-MM>``). Pure.

R-32: running a month again with the same inputs issues nothing; changed inputs issue a corrected
payslip beside the old one (``supersedes``, ``difference``), never an edit. R-33: branch fees and
trainer fines of the month are issued once; a later run charges only training days not charged yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from uuid import UUID

from shared.decider import Decider, InvalidCommand
from shared.events import Event

from .commands import RunPayroll
from .events import BranchFeeCharged, PayslipIssued, TrainerFineIssued
from .money import CENT
from .months import check_month
from .payslip import ComputedPayslip


def payroll_stream(month: str) -> str:
    return f"payroll-{check_month(month)}"


# The payslips issued, newest first, as a linked list: a month holds one per employee, and
# copying a dict of them on every event made folding a 10,000-payslip month quadratic.
Issued = tuple[PayslipIssued, "Issued | None"]


@dataclass(frozen=True)
class Payroll:
    issued: Issued | None = None
    charged_days: Mapping[str, frozenset[date]] = field(default_factory=dict)  # per trainee
    fines: frozenset[UUID] = frozenset()  # penalty event ids fined

    @cached_property
    def payslips(self) -> Mapping[str, PayslipIssued]:
        """The latest payslip per employee (indexed once per state, when first asked)."""
        latest: dict[str, PayslipIssued] = {}
        node = self.issued
        while node is not None:
            payslip, node = node
            latest.setdefault(payslip.employee_id, payslip)
        return latest

    def latest(self, employee_id: str) -> PayslipIssued | None:
        return self.payslips.get(employee_id)


def initial() -> Payroll:
    return Payroll()


def evolve(state: Payroll, event: Event) -> Payroll:
    match event:
        case PayslipIssued():
            return replace(state, issued=(event, state.issued))
        case BranchFeeCharged():
            days = state.charged_days.get(event.trainee_id, frozenset()) | set(event.days)
            return replace(state, charged_days={**state.charged_days, event.trainee_id: days})
        case TrainerFineIssued():
            return replace(state, fines=state.fines | {event.penalty_event_id})
    return state


def decide(command: RunPayroll, state: Payroll) -> list[Event]:
    if not isinstance(command, RunPayroll):
        raise TypeError(f"unknown command {command!r}")
    month = check_month(command.month)
    employees = [p.employee_id for p in command.payslips]
    if len(set(employees)) != len(employees):
        raise InvalidCommand("payslips", "one payslip per employee")
    if any(f.month != month for f in command.branch_fees):
        raise InvalidCommand("branch_fees", f"fees of another month than {month}", "R-33")
    if any(f.month != month for f in command.trainer_fines):
        raise InvalidCommand("trainer_fines", f"fines of another month than {month}", "R-33")
    payslips = [_payslip(month, p, state) for p in command.payslips]
    fees = [_fee(f, state) for f in command.branch_fees]
    issued: list[Event | None] = [*payslips, *fees, *_fines(command.trainer_fines, state)]
    return [e for e in issued if e is not None]


PAYROLL = Decider(initial, evolve, decide)


def _payslip(month: str, computed: ComputedPayslip, state: Payroll) -> PayslipIssued | None:
    previous = state.latest(computed.employee_id)
    if previous is not None and previous.inputs_digest == computed.inputs_digest:
        return None  # the same inputs: this payslip stands
    if previous is None and not computed.lines:
        return None  # nothing to pay and nothing to correct (e.g. the reserve position, R-30)
    total = computed.total
    return PayslipIssued(
        payslip_id=computed.payslip_id,
        month=month,
        employee_id=computed.employee_id,
        lines=list(computed.lines),
        total=total,
        inputs_digest=computed.inputs_digest,
        supersedes=None if previous is None else previous.payslip_id,
        difference=None if previous is None else total - previous.total,
        policy_version=computed.policy_version,
        rule_trace=list(computed.rule_trace),
    )


def _fee(fee: BranchFeeCharged, state: Payroll) -> BranchFeeCharged | None:
    """Charge only the days not charged yet: charges of a month add up (R-19)."""
    charged = state.charged_days.get(fee.trainee_id, frozenset())
    new_days = sorted(set(fee.days) - charged)
    if not new_days:
        return None
    amount = (fee.fee_per_day * len(new_days)).quantize(CENT)
    return fee.model_copy(update={"days": new_days, "amount": amount})


def _fines(fines: tuple[TrainerFineIssued, ...], state: Payroll) -> list[TrainerFineIssued]:
    issued = set(state.fines)
    new = []
    for fine in fines:
        if fine.penalty_event_id not in issued:
            issued.add(fine.penalty_event_id)
            new.append(fine)
    return new
