"""The trainee categories of R-1 (docs/rules.md): enrollment records a trainee's on enrolment,
compensation pays by it (R-25 to R-31). ``TraineeEnrolled`` carries the value from one service to
the other, so both know the same list."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """R-1 trainee categories."""

    HQ_FULL_TIME = "hq_full_time"  # 公司专职售后人员
    PRODUCTION_RESERVE = "production_reserve"  # 生产储备/兼职售后人员
    BRANCH_COMMISSIONED = "branch_commissioned"  # 办事处/经销商委培售后人员
