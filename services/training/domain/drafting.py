"""R-8 and R-8a: what a drafted plan must hold, and what its approval needs. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from shared.decider import InvalidCommand, required_text

from .events import StageSpec
from .vocabulary import Topic


def checked_stages(stages: Sequence[StageSpec]) -> list[StageSpec]:
    """The stages cleaned (text stripped, empty series -> None), or the first bad field (R-8)."""
    if not stages:
        raise InvalidCommand("stages", "a plan needs at least one stage", "R-8")
    checked: list[StageSpec] = []
    previous = 0
    for i, stage in enumerate(stages):
        checked.append(_checked_stage(f"stages[{i}]", stage, previous))
        previous = stage.no
    return checked


def _checked_stage(where: str, stage: StageSpec, previous: int) -> StageSpec:
    if stage.no <= previous:
        detail = f"stage number {stage.no} must be above {previous}: numbers ascend, unique, from 1"
        raise InvalidCommand(f"{where}.no", detail, "R-8")
    content = required_text(f"{where}.content", stage.content, "R-8")
    trainer_id = required_text(f"{where}.trainer_id", stage.trainer_id, "R-8")
    if stage.planned_start > stage.planned_end:
        detail = f"planned_end {stage.planned_end} is before planned_start {stage.planned_start}"
        raise InvalidCommand(f"{where}.planned_end", detail, "R-8")
    series = (stage.product_series or "").strip() or None
    return stage.model_copy(
        update={"content": content, "trainer_id": trainer_id, "product_series": series}
    )


def missing_topics(stages: Sequence[StageSpec], mandatory: Sequence[Topic]) -> list[Topic]:
    """R-8a: the ``mandatory`` topics (policy plan-content) no stage covers, in their order."""
    covered = {s.topic for s in stages}
    return [t for t in mandatory if t not in covered]
