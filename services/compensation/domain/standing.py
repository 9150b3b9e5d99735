"""Whether a month's branch fees and trainer fines are assessed or issued (R-19, R-24, R-33). Pure.

A fee or fine belongs to the month it is assessed in (R-33). It is *issued* once a payroll run of
that month has charged it (``BranchFeeCharged``, ``TrainerFineIssued`` in ``payroll-<month>``);
until then it is *assessed*: what the month's next run would charge, which is exactly what the
payroll decider would issue now over the month's state. Only the run of its own month issues it:
another month's run neither charges it (fees.py keeps each month's own) nor touches the stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shared.events import Event

from .commands import RunPayroll
from .events import BranchFeeCharged, TrainerFineIssued
from .payroll import PAYROLL


class Standing(StrEnum):
    ASSESSED = "assessed"  # the month's payroll has not issued it yet
    ISSUED = "issued"  # a payroll run of its month issued it


@dataclass(frozen=True)
class MonthCharges:
    """The month's fees and fines, each with its standing, issued ones first as issued."""

    fees: list[tuple[BranchFeeCharged, Standing]]
    fines: list[tuple[TrainerFineIssued, Standing]]


def month_charges(
    month: str,
    issued: Iterable[Event],
    fees_now: Iterable[BranchFeeCharged],
    fines_now: Iterable[TrainerFineIssued],
) -> MonthCharges:
    """``issued``: the month's stream (what its runs issued); ``fees_now``/``fines_now``: what
    the month's charges come to now (fees.branch_fees, fees.trainer_fines). What a run would
    add to the stream is assessed; what the stream holds is issued."""
    history = [e for e in issued if isinstance(e, BranchFeeCharged | TrainerFineIssued)]
    state = PAYROLL.fold(history)
    pending = PAYROLL.decide(RunPayroll(month, (), tuple(fees_now), tuple(fines_now)), state)
    return MonthCharges(
        [(e, Standing.ISSUED) for e in history if isinstance(e, BranchFeeCharged)]
        + [(e, Standing.ASSESSED) for e in pending if isinstance(e, BranchFeeCharged)],
        [(e, Standing.ISSUED) for e in history if isinstance(e, TrainerFineIssued)]
        + [(e, Standing.ASSESSED) for e in pending if isinstance(e, TrainerFineIssued)],
    )
