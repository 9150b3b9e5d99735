"""R-7/R-7a: the plan level shapes the plan. Pure; the policy version is an input.

Drafting checks each stage's ``covers`` against the content codes the policy knows (any level's:
the placement may not be known yet when the plan is drawn up). Approval needs the placement and
every content item of the trainee's level covered by some stage. The approval checks R-8a (the
mandatory topics, the plan's own content) first, then R-7: the placement, then the items.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.decider import InvalidCommand, RuleViolation
from shared.events import JsonDict

from ..policy.plan_content import PlanContentPolicy, PlanLevel
from .drafting import missing_topics
from .events import StageSpec
from .state import TrainingPlan


def checked_covers(stages: Sequence[StageSpec], policy: PlanContentPolicy) -> list[StageSpec]:
    """The stages with their covers stripped and each listed once, or 422 naming the first
    unknown code as ``stages[i].covers[j]`` (R-7a)."""
    known = policy.known_codes()
    checked: list[StageSpec] = []
    for i, stage in enumerate(stages):
        covers: list[str] = []
        for j, raw in enumerate(stage.covers):
            code = raw.strip()
            if code not in known:
                detail = f"{raw!r} is not a content item of any plan level ({policy.version})"
                raise InvalidCommand(f"stages[{i}].covers[{j}]", detail, "R-7a")
            if code not in covers:
                covers.append(code)
        checked.append(stage.model_copy(update={"covers": tuple(covers)}))
    return checked


def missing_content(
    stages: Sequence[StageSpec], level: PlanLevel, policy: PlanContentPolicy
) -> list[str]:
    """R-7a: the items of ``level`` no stage covers, in the policy's order."""
    covered = {code for stage in stages for code in stage.covers}
    return [code for code in policy.items(level) if code not in covered]


def check_content(
    stages: Sequence[StageSpec], level: PlanLevel | None, policy: PlanContentPolicy
) -> None:
    """R-7: 409 while the placement is unknown or some item of its level is not covered."""
    if level is None:
        raise RuleViolation("R-7", "the trainee's placement is not known yet: no plan level")
    missing = missing_content(stages, level, policy)
    if missing:
        detail = f"the plan does not cover these {level.value} items: {', '.join(missing)}"
        raise RuleViolation("R-7", detail)


def plan_coverage(
    state: TrainingPlan, level: PlanLevel | None, policy: PlanContentPolicy
) -> JsonDict:
    """What the plan table shows of R-7/R-8a for its latest revision: the trainee's level, and
    what approval would still find missing (``content_missing`` is None while no level)."""
    specs = [s.spec for s in state.stages]
    return {
        "plan_level": level.value if level else None,
        "content_policy": policy.version,
        "content_items": list(policy.items(level)) if level else None,
        "content_missing": missing_content(specs, level, policy) if level else None,
        "topics_missing": [t.value for t in missing_topics(specs, policy.mandatory_topics)],
    }
