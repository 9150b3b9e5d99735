"""Who may read what on each training read route (docs/http.md, "training"; R-2), and who may
draft which plan, in one place. A role a route does not name grants nothing there; what a caller
may read is the union of what each of its roles grants on the route.

The other writes need no rule here: each is one role's act on its own stage or plan, which the
plan's decider checks (another trainer's stage, another trainee's plan: 403). Drafting is the
exception, as the plan does not know the trainee's category: :func:`may_draft`.
"""

from __future__ import annotations

from shared.audience import Audience
from shared.auth import Principal, Role

from .domain.state import TrainingPlan
from .upstream import PRODUCTION_RESERVE, KnownTrainee

# A plan is read by the manager, the executive vice-president, the trainee, its trainers and its
# branch; production draws up (and so reads) the plans of production reserve trainees.
PLAN = Audience(
    everything={Role.AFTER_SALES_MANAGER, Role.EXEC_VP},
    own_branch={Role.BRANCH_CLERK},
    themselves={Role.TRAINEE},
)
PLAN_READERS = PLAN.roles | {Role.PRODUCTION_MANAGER, Role.TRAINER}
# The lists of plans (GET /plans: the VP's approval queue, the managers' plans by status): the
# manager and the VP list every plan, the production manager its production reserve trainees'.
PLAN_LIST = Audience(everything={Role.AFTER_SALES_MANAGER, Role.EXEC_VP})
PLAN_LIST_READERS = PLAN_LIST.roles | {Role.PRODUCTION_MANAGER}
PROGRESS_BOARD = Audience(
    everything={Role.MANAGEMENT, Role.AFTER_SALES_MANAGER, Role.EXEC_VP},
    own_branch={Role.BRANCH_CLERK},
)
# A trainer's stages across the plans in force (``GET /trainers/{id}/stages``): a trainer reads its
# own; those who plan, approve and oversee training read any trainer's.
TRAINER_STAGES = Audience(
    everything={Role.MANAGEMENT, Role.AFTER_SALES_MANAGER, Role.EXEC_VP},
    themselves={Role.TRAINER},
)

# The queue of concerns about trainees who cannot keep up (R-12b): the manager handles them.
CONCERN_QUEUE = Audience(everything={Role.AFTER_SALES_MANAGER})


def may_read(principal: Principal, trainee: KnownTrainee | None, state: TrainingPlan) -> bool:
    """The after-sales manager and the VP read every plan; the others only their own: the
    clerk its branch's, the trainee its own, a trainer the plans it trains stages of, the
    production manager its production reserve trainees'."""
    if trainee is None:
        return bool(principal.roles & PLAN.everything)
    if PLAN.sees(principal, branch_id=trainee.branch_id, person_id=trainee.trainee_id):
        return True
    trainers = {stage.spec.trainer_id for stage in state.stages}
    return (
        principal.has_role(Role.PRODUCTION_MANAGER) and trainee.category == PRODUCTION_RESERVE
    ) or (principal.has_role(Role.TRAINER) and principal.sub in trainers)


def may_draft(principal: Principal, trainee: KnownTrainee | None) -> bool:
    """R-8: the after-sales manager drafts every plan, the production manager those of
    production reserve trainees (R-1). An unknown trainee is for the plan write to refuse (404
    until its enrolment arrives)."""
    if principal.has_role(Role.AFTER_SALES_MANAGER) or trainee is None:
        return True
    return trainee.category == PRODUCTION_RESERVE


def listed_category(principal: Principal) -> str | None:
    """The category of trainee whose plans ``principal`` may list (None: every plan): the
    production manager lists the production reserve trainees' plans only (R-8)."""
    if principal.roles & PLAN_LIST.everything:
        return None
    return PRODUCTION_RESERVE
