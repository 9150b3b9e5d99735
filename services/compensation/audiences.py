"""Who may read what on each compensation route (docs/http.md, "compensation"; R-2), in one
place: each route's role gate and its visibility rule come from the one :class:`Audience` here.
A role a route does not name grants nothing there: only the trainee role makes a token's ``sub``
the employee whose pay it may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.audience import Audience
from shared.auth import Principal, Role

PAY_READERS = Audience(everything={Role.PAYROLL, Role.MANAGEMENT}, themselves={Role.TRAINEE})
PAYROLL_READERS = Audience(everything={Role.PAYROLL, Role.MANAGEMENT})
FEE_READERS = Audience(everything={Role.PAYROLL, Role.MANAGEMENT}, own_branch={Role.BRANCH_CLERK})
# R-2/R-12b: what is reported back to a branch about its trainees.
FEEDBACK_READERS = Audience(
    everything={Role.AFTER_SALES_MANAGER, Role.MANAGEMENT}, own_branch={Role.BRANCH_CLERK}
)

PayReader = Annotated[Principal, Depends(PAY_READERS.gate())]
PayrollReader = Annotated[Principal, Depends(PAYROLL_READERS.gate())]
FeeReader = Annotated[Principal, Depends(FEE_READERS.gate())]
FeedbackReader = Annotated[Principal, Depends(FEEDBACK_READERS.gate())]
# What if (docs/what-if.md): those who weigh a policy before it is published.
WHAT_IF = Audience(everything={Role.MANAGEMENT, Role.EXEC_VP})
Planner = Annotated[Principal, Depends(WHAT_IF.gate())]
