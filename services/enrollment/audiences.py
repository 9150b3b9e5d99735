"""Who may see and act on which trainee, per enrollment route (docs/http.md, "enrollment";
R-2), and on the organisation's branches and staff, in one place.

Each route's role gate and its visibility rule come from the one :class:`Audience` here. A role a
route does not name grants nothing there: a clerk who also trains withdraws only its own
branch's trainees, although a trainer may read every trainee's profile.
"""

from __future__ import annotations

from shared.audience import Audience
from shared.auth import Role

ENROLMENT = Audience(everything={Role.AFTER_SALES_MANAGER}, own_branch={Role.BRANCH_CLERK})
WITHDRAWAL = Audience(everything={Role.AFTER_SALES_MANAGER}, own_branch={Role.BRANCH_CLERK})
PLACEMENT = Audience(everything={Role.AFTER_SALES_MANAGER, Role.EXAMINER})
# "any role that may see the trainee": the staff who work with trainees of every branch.
PROFILE = Audience(
    everything={
        Role.AFTER_SALES_MANAGER,
        Role.PRODUCTION_MANAGER,
        Role.EXEC_VP,
        Role.TRAINER,
        Role.EXAMINER,
        Role.PAYROLL,
        Role.MANAGEMENT,
        Role.AUDITOR,
    },
    own_branch={Role.BRANCH_CLERK},
    themselves={Role.TRAINEE},
)
LISTING = Audience(
    everything={Role.AFTER_SALES_MANAGER, Role.MANAGEMENT}, own_branch={Role.BRANCH_CLERK}
)

# The organisation (docs/organisation.md): its administrator alone changes it; everyone
# signed in reads the branches (their names are shown wherever people read a branch id); the
# staff list is for those who plan training and exams (the production manager draws up the
# production reserve trainees' plans, naming their trainers: R-8), and for management.
ORGANISATION_ADMIN = Audience(everything={Role.ADMIN})
STAFF_READERS = Audience(
    everything={Role.ADMIN, Role.AFTER_SALES_MANAGER, Role.PRODUCTION_MANAGER, Role.MANAGEMENT}
)
