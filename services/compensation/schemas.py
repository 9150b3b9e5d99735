"""What the compensation routes share: path parameters, request bodies, the payroll clerk's
write, money on the wire, the models of what the routes answer (the OpenAPI document's response
schemas) and the JSON shapes those models are filled from."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Path
from pydantic import BaseModel, Field, WithJsonSchema

from shared.auth import Role
from shared.commands import Write, writer
from shared.events import Event, JsonDict
from shared.requests import Money, RequestBody, decimal_schema

from .domain.events import BranchFeeCharged, PayRateSet, PayslipIssued, TrainerFineIssued
from .domain.money import CENT
from .domain.months import Month
from .domain.vocabulary import Category, Level, LineName, Position

EmployeeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
# YYYY-MM, years 0001-9999, spelt without a lookahead: generators of test requests read it too.
MONTH_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
)
MonthText = Annotated[str, Field(pattern=MONTH_PATTERN, description="the month, YYYY-MM")]
# A pay command: a payroll clerk, Idempotency-Key, If-Match and now, resolved as ONE dependency.
PayrollWrite = Annotated[Write, writer(Role.PAYROLL)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class TravelRequest(Body):
    month: MonthText
    days: TravelDays


class PieceRateRequest(Body):
    month: MonthText
    amount: Money


Rating = Annotated[  # R-27, a percentage
    Decimal,
    Field(ge=0, le=100, decimal_places=2),
    decimal_schema(r"^(100(\.00?)?|[0-9]{1,2}(\.[0-9]{1,2})?)$", 2, minimum=0, maximum=100),
]
TravelDays = Annotated[int, Field(ge=0, le=31)]  # and at most the month's days


class PerformanceRequest(Body):
    month: MonthText
    rating: Rating


class PayInputRow(Body):
    """One row of a month's pay-input sheet (``POST /imports/pay-inputs/{month}``): the
    employee, and any of the month's inputs that apply to it (R-27, R-28); ``name`` is for the
    people who read the sheet and is not stored."""

    employee_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    name: Annotated[str, Field(max_length=200)] | None = None
    travel_days: TravelDays | None = None
    piece_rate: Money | None = None
    rating: Rating | None = None


class RunRequest(Body):
    """Nothing to say: a run is decided by the month's inputs alone."""


def month_path(
    month: Annotated[str, Path(pattern=MONTH_PATTERN, description="the month, YYYY-MM")],
) -> Month:
    """The ``{month}`` of a route (anything else is a 422 naming ``path.month``)."""
    return Month.parse(month)


MonthPath = Annotated[Month, Depends(month_path)]


UNTIL_KNOWN = "; its id until it has arrived"
PayInputName = Literal["travel_days", "piece_rate", "rating"]

# --- answers: every field a route answers today, typed (money as strings with two decimals) ---

# A time the answer spells with ``isoformat()`` (``+00:00``): described as a date-time, sent as
# the text it is (a datetime field would be re-spelt ``Z``).
IsoText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class PayInputAnswer(BaseModel):
    employee_id: str
    version: int
    month: str


class TravelAnswer(PayInputAnswer):
    days: int


class PieceRateAnswer(PayInputAnswer):
    amount: str


class PerformanceAnswer(PayInputAnswer):
    rating: str


class ImportedPayInputs(BaseModel):
    row: int = Field(description="the row's number as the spreadsheet shows it (header: 1)")
    employee_id: str
    recorded: list[PayInputName]


class PayInputsImported(BaseModel):
    """What a pay-input sheet recorded: every row's inputs, in file order."""

    month: str
    imported: int = Field(description="rows recorded")
    rows: list[ImportedPayInputs]


class PayInputLine(BaseModel):
    employee_id: str
    employee_name: str = Field(description="the employee's name (its enrolment's)" + UNTIL_KNOWN)
    category: Category
    position: Position
    level: Level | None
    inputs: list[PayInputName] = Field(description="the inputs its category is paid on")
    travel_days: int | None = Field(description="recorded for the month; null: none yet")
    piece_rate: str | None
    rating: str | None
    version: int = Field(description="the pay account's version: If-Match of the next input")


class PayInputSheet(BaseModel):
    """The month's pay inputs of every employee a grade gave a pay rate."""

    month: str
    rows: list[PayInputLine]


class IssuedCounts(BaseModel):
    payslips: int
    corrections: int
    branch_fees: int
    trainer_fines: int


class IssuedPayslip(BaseModel):
    employee_id: str
    payslip_id: str
    total: str
    supersedes: str | None  # the payslip a correction replaces
    difference: str | None


class PayrollRunAnswer(BaseModel):
    """What a payroll run issued (nothing for a rerun on the same inputs)."""

    month: str
    version: int
    issued: IssuedCounts
    payslips: list[IssuedPayslip]


class PayLine(BaseModel):
    name: LineName
    amount: str
    rule: str


class TravelDayPay(PayLine):
    divisor: int


class PayRateAnswer(BaseModel):
    employee_id: str
    category: Category
    position: Position
    level: Level | None
    monthly: str | None
    lines: list[PayLine]
    travel_day_rates: list[TravelDayPay]
    piece_rate_rule: str | None
    grade_event_id: str
    effective_from: date
    policy_version: str
    rule_trace: list[str]
    version: int


class PayslipItem(BaseModel):
    payslip_id: str
    month: str
    lines: list[PayLine]
    total: str
    supersedes: str | None
    difference: str | None
    superseded: bool
    issued_at: IsoText


class PayslipPage(BaseModel):
    items: list[PayslipItem]
    next_cursor: str | None


class MonthPayslip(BaseModel):
    employee_id: str
    employee_name: str = Field(description="the employee's name (its enrolment's)" + UNTIL_KNOWN)
    payslip_id: str
    lines: list[PayLine]
    total: str
    supersedes: str | None
    difference: str | None
    policy_version: str
    issued_at: IsoText


class HistoryPayslip(MonthPayslip):
    superseded: bool


class PayrollAnswer(BaseModel):
    month: str
    version: int
    payslips: list[MonthPayslip]  # the latest per employee
    history: list[HistoryPayslip]  # every payslip issued, oldest first


ChargeStatus = Annotated[
    Literal["assessed", "issued"],
    Field(description="R-33: `assessed` until the month's payroll run issues it, then `issued`"),
]


class FeeRow(BaseModel):
    branch_id: str
    branch_name_zh: str = Field(description="the branch's Chinese name" + UNTIL_KNOWN)
    branch_name_en: str = Field(description="the branch's English name" + UNTIL_KNOWN)
    trainee_id: str
    trainee_name: str = Field(description="the trainee's name" + UNTIL_KNOWN)
    days: int
    dates: list[date]
    amount: str
    status: ChargeStatus


class BranchFees(BaseModel):
    month: str
    version: int
    rows: list[FeeRow]


class FineRow(BaseModel):
    trainer_id: str
    trainer_name: str = Field(description="the trainer's name" + UNTIL_KNOWN)
    session_id: str
    product_series: str | None = Field(description="the session's product series (R-24)")
    content: str | None = Field(description="the session's training content, when not a series")
    failure_rate: str
    amount: str
    penalty_event_id: str
    status: ChargeStatus


class TrainerFines(BaseModel):
    month: str
    version: int
    rows: list[FineRow]


def money(amount: Decimal) -> str:
    """Money on the wire: a string with two decimals (docs/http.md), rounded half-up."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def rate_json(rate: PayRateSet) -> JsonDict:
    return {
        "employee_id": rate.employee_id,
        "category": rate.category,
        "position": rate.position,
        "level": rate.level,
        "monthly": None if rate.monthly is None else money(rate.monthly),
        "lines": [
            {"name": line.name, "amount": money(line.amount), "rule": line.rule}
            for line in rate.lines
        ],
        "travel_day_rates": [
            {"name": r.name, "amount": money(r.amount), "divisor": r.divisor, "rule": r.rule}
            for r in rate.travel_day_rates
        ],
        "piece_rate_rule": rate.piece_rate_rule,
        "grade_event_id": str(rate.grade_event_id),
        "effective_from": rate.effective_from.isoformat(),
        "policy_version": rate.policy_version,
        "rule_trace": rate.rule_trace,
    }


def payslip_item(row: Any) -> JsonDict:
    return {
        "payslip_id": str(row["payslip_id"]),
        "month": row["month"],
        "lines": row["lines"],
        "total": money(row["total"]),
        "supersedes": None if row["supersedes"] is None else str(row["supersedes"]),
        "difference": None if row["difference"] is None else money(row["difference"]),
        "superseded": row["superseded"],
        "issued_at": row["issued_at"].isoformat(),
    }


def issued(events: list[Event]) -> JsonDict:
    """What a payroll run issued (nothing for a rerun on the same inputs)."""
    slips = [e for e in events if isinstance(e, PayslipIssued)]
    return {
        "issued": {
            "payslips": sum(1 for e in slips if e.supersedes is None),
            "corrections": sum(1 for e in slips if e.supersedes is not None),
            "branch_fees": sum(1 for e in events if isinstance(e, BranchFeeCharged)),
            "trainer_fines": sum(1 for e in events if isinstance(e, TrainerFineIssued)),
        },
        "payslips": [
            {
                "employee_id": e.employee_id,
                "payslip_id": str(e.payslip_id),
                "total": money(e.total),
                "supersedes": None if e.supersedes is None else str(e.supersedes),
                "difference": None if e.difference is None else money(e.difference),
            }
            for e in slips
        ],
    }
