"""R-14: the product series a plan has taught to the end. Pure.

Only the approved revision counts (R-9): a re-draft awaiting approval neither masters a series by
dropping its open stages nor unmasters one by adding stages.

Series recorded as mastered at enrollment are the enrollment service's knowledge; whoever needs
the trainee's full list (assessment, R-21) joins the two.
"""

from __future__ import annotations

from .state import TrainingPlan
from .vocabulary import StageStatus


def mastered_series(state: TrainingPlan) -> set[str]:
    """Series for which every stage of the approved revision covering them is signed off (a
    reopened stage is not)."""
    covering: dict[str, list[StageStatus]] = {}
    for stage in state.approved_stages:
        if stage.spec.product_series is not None:
            covering.setdefault(stage.spec.product_series, []).append(stage.status)
    return {
        series
        for series, statuses in covering.items()
        if all(status is StageStatus.SIGNED_OFF for status in statuses)
    }
