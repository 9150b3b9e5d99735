"""Who may see what on each assessment route (docs/http.md, "assessment"; R-2), in one place.

Each route's role gate and its visibility rule come from the one :class:`Audience` here: the
roles that see every trainee, those that see their own branch's, and the trainee itself. A role
a route does not name grants nothing there (a clerk who also trains reads its own branch's
grades only; a trainee who also examines disputes its own grade only).
"""

from __future__ import annotations

from shared.audience import Audience
from shared.auth import Principal, Role

GRADE = Audience(
    everything={Role.MANAGEMENT, Role.AUDITOR},
    own_branch={Role.BRANCH_CLERK},
    themselves={Role.TRAINEE},
)
GRADE_BOARD = Audience(everything={Role.MANAGEMENT, Role.AUDITOR}, own_branch={Role.BRANCH_CLERK})
# The monthly trends (trends.py): the grade board's readers.
TRENDS = Audience(everything={Role.MANAGEMENT, Role.AUDITOR}, own_branch={Role.BRANCH_CLERK})
TRAINER_BOARD = Audience(everything={Role.MANAGEMENT, Role.AFTER_SALES_MANAGER})
# the trainees a fined trainer keeps training; the trainer reads its own list.
RETRAINING = Audience(
    everything={Role.MANAGEMENT, Role.AFTER_SALES_MANAGER}, themselves={Role.TRAINER}
)
AUDIT = Audience(everything={Role.AUDITOR, Role.AFTER_SALES_MANAGER})
SESSION = Audience(
    everything={Role.AFTER_SALES_MANAGER, Role.EXAMINER, Role.MANAGEMENT, Role.AUDITOR}
)
DISPUTE = Audience(
    everything={Role.AFTER_SALES_MANAGER, Role.MANAGEMENT, Role.AUDITOR},
    own_branch={Role.BRANCH_CLERK},
    themselves={Role.TRAINEE},
)
# "the trainee, its branch_clerk, after_sales_manager" file disputes.
DISPUTE_FILING = Audience(
    everything={Role.AFTER_SALES_MANAGER},
    own_branch={Role.BRANCH_CLERK},
    themselves={Role.TRAINEE},
)


def dispute_list_scope(principal: Principal) -> tuple[str | None, str | None]:
    """(branch, trainee) that ``GET /disputes`` is limited to for the caller, None for any: every
    dispute for the roles that see everything, the own branch's for a clerk, a trainee's own."""
    if principal.roles & DISPUTE.everything:
        return None, None
    if principal.roles & DISPUTE.own_branch:
        return DISPUTE.branch_of_list(principal, None), None
    return None, principal.sub


# What if (docs/what-if.md): those who weigh a policy before it is published.
WHAT_IF = Audience(everything={Role.MANAGEMENT, Role.EXEC_VP})
