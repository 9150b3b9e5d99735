"""The compensation service's words for categories, positions, levels and payslip lines."""

from __future__ import annotations

from enum import StrEnum

from shared.categories import Category as Category  # who is paid how


class Position(StrEnum):
    """R-20 positions, and the reserve position of R-18/R-30."""

    TECHNICIAN = "technician"
    ENGINEER = "engineer"
    RESERVE = "reserve"


class Level(StrEnum):
    """R-20 levels within a position."""

    JUNIOR = "junior"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"


class LineName(StrEnum):
    """Payslip line names of the HTTP contract, in the order a payslip lists them."""

    POSITION = "position"  # 70 % of the monthly pay
    PERFORMANCE = "performance"  # 30 % of the monthly pay x rating
    TECHNICAL_ALLOWANCE = "technical_allowance"  # per month
    PIECE_RATE = "piece_rate"  # the production wage recorded for the month
    TRAVEL_PAY = "travel_pay"  # per travel day = monthly basis / working days
    TRAVEL_ALLOWANCE = "travel_allowance"  # R-26, per travel day
    TRAVEL_SUBSIDY = "travel_subsidy"  # R-29, per travel day


class Attribution(StrEnum):
    """How a month's inputs (travel days, piece-rate) split across the rates in force (R-32).

    ``prorated``: each rate segment takes the share of its calendar days (days / days in month);
    ``month_end``: the rate in force on the last day of the month takes all of them.
    """

    PRORATED = "prorated"
    MONTH_END = "month_end"


class DispositionOutcome(StrEnum):
    """R-18 dispositions of a failed trainee."""

    CONTINUE_TRAINING = "continue_training"
    RESERVE = "reserve"
    WORKSHOP = "workshop"
