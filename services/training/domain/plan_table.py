"""The plan table 培训计划表 as ``GET /plans/{trainee_id}`` shows it (docs/http.md).

JSON-ready: dates are ISO strings, hours strings (exact decimals). ``version`` is the stream
version (the ETag), which only the caller knows; ``revision`` counts the drafts.
"""

from __future__ import annotations

from shared.decider import NotFound
from shared.events import JsonDict

from .followup_table import concern_rows, send_back_rows
from .mastery import mastered_series
from .state import Day, Stage, TrainingPlan


def plan_table(state: TrainingPlan, version: int) -> JsonDict:
    if state.status is None:
        raise NotFound("no plan has been drafted for this trainee")
    return {
        "trainee_id": state.trainee_id,
        "status": state.status.value,
        "version": version,
        "revision": state.revision,
        "approved_revision": state.approved_revision,
        "remedial": state.remedial,
        "stages": [_stage_row(s) for s in state.stages],
        "mastered_series": sorted(mastered_series(state)),
        "concerns": concern_rows(state),
    }


def _stage_row(stage: Stage) -> JsonDict:
    spec, sign_off = stage.spec, stage.sign_off
    return {
        "no": spec.no,
        "content": spec.content,
        "department": spec.department.value,
        "trainer_id": spec.trainer_id,
        "product_series": spec.product_series,
        "topic": spec.topic.value,
        "covers": list(spec.covers),
        "planned_start": spec.planned_start.isoformat(),
        "planned_end": spec.planned_end.isoformat(),
        "status": stage.status.value,
        "disputed": sign_off is not None and sign_off.disputed,
        "trainer_assessment": stage.assessment.assessment if stage.assessment else None,
        "countersigned": sign_off is not None,
        "trainee_comment": sign_off.comment if sign_off else None,
        "days": [_day_row(d) for d in stage.days],
        "send_backs": send_back_rows(stage),
    }


def _day_row(day: Day) -> JsonDict:
    logged, confirmation = day.logged, day.confirmation
    return {
        "date": logged.date.isoformat(),
        "hours": str(logged.hours),
        "content": logged.content,
        "method": logged.method,
        "performance": logged.performance,
        "effect": logged.effect,
        "trainer_id": logged.trainer_id,
        "confirmed": confirmation is not None,
        "agree": confirmation.agree if confirmation else None,
        "comment": confirmation.comment if confirmation else None,
    }
