"""What assessment knows of a trainee from upstream events (R-3, R-14, R-21 inputs). Pure.

The consumer keeps these facts in tables and the audit rebuilds them from the inbox; both go
through the functions here, so the two can never disagree on what a send-back or a redraft means.
Upstream payloads are read tolerantly (plain dicts, only the fields used): enrollment and training
may add fields without breaking assessment.

R-14: a series is mastered when it was recorded at enrollment, or when every stage covering it
in the approved revision of the plan (R-9) is signed off and not reopened. A send-back (R-12)
reopens one stage and so unmasters its series, unless the series was already mastered at
enrollment: that record stands. An accepted explanation of the send-back (R-12a, ReturnClosed)
signs the stage again, as a new sign-off would. A re-draft awaiting approval changes nothing
of it: dropping an open stage masters nothing, adding a stage unmasters nothing, until the
revision is approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import orjson

from .events import TraineeFacts, certificate_count
from .vocabulary import Education

JsonDict = Mapping[str, Any]
PLAN_EVENTS = frozenset(
    {"PlanDrafted", "PlanApproved", "StageSignedOff", "StageReturned", "ReturnClosed"}
)


@dataclass(frozen=True)
class PlanStage:
    """One row of the trainee's current plan, as far as grading and R-24 care."""

    no: int
    trainer_id: str
    product_series: str | None
    spec: str  # the drafted row as canonical JSON: a redraft keeps identical rows' signatures
    signed: bool = False
    reopened: bool = False


def canonical(spec: JsonDict) -> str:
    # A stage drafted before R-7a has no ``covers``; one drafted since lists them (maybe none):
    # the same row either way, so a later revision keeping it keeps its signatures.
    row = {k: v for k, v in spec.items() if not (k == "covers" and not v)}
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode()


def _drafted(spec: JsonDict) -> PlanStage:
    return PlanStage(
        no=int(spec["no"]),
        trainer_id=str(spec["trainer_id"]),
        product_series=spec.get("product_series"),
        spec=canonical(spec),
    )


def redrafted(stages: Sequence[PlanStage], specs: Iterable[JsonDict]) -> tuple[PlanStage, ...]:
    """R-8/R-9: a redraft replaces the plan; a row drafted exactly as before keeps its state
    (as the training service does), any other row starts unsigned."""
    before = {s.spec: s for s in stages}
    fresh = (_drafted(spec) for spec in specs)
    return tuple(before.get(s.spec, s) for s in fresh)


def signed_off(stages: Sequence[PlanStage], data: JsonDict) -> tuple[PlanStage, ...]:
    """R-11: the stage is done (also after a send-back: a new sign-off closes it again)."""
    no = int(data["stage_no"])
    if not any(s.no == no for s in stages):  # a sign-off without its draft: keep what it says
        row = {"no": no, "trainer_id": data["trainer_id"]}
        stages = (*stages, _drafted({**row, "product_series": data.get("product_series")}))
    return tuple(replace(s, signed=True, reopened=False) if s.no == no else s for s in stages)


def returned(stages: Sequence[PlanStage], data: JsonDict) -> tuple[PlanStage, ...]:
    """R-12: the earlier stage reopens and needs a new sign-off."""
    no = int(data["to_stage"])
    return tuple(replace(s, signed=False, reopened=True) if s.no == no else s for s in stages)


def return_closed(stages: Sequence[PlanStage], data: JsonDict) -> tuple[PlanStage, ...]:
    """R-12a: the explanation of the send-back accepted, the returned stage counts as signed
    again without a new sign-off."""
    no = int(data["stage_no"])
    return tuple(replace(s, signed=True, reopened=False) if s.no == no else s for s in stages)


@dataclass(frozen=True)
class PlanFacts:
    """The trainee's plan: its latest drafted revision and the approved one in force (R-9).

    Training is logged and signed only against an approved revision, so sign-offs and send-backs
    apply to both (the drafted rows carry them into the next redraft, as training does)."""

    drafted: tuple[PlanStage, ...] = ()
    in_force: tuple[PlanStage, ...] = ()


def evolve_plan(plan: PlanFacts, event_type: str, data: JsonDict) -> PlanFacts:
    if event_type == "PlanDrafted":
        return replace(plan, drafted=redrafted(plan.drafted, data.get("stages", ())))
    if event_type == "PlanApproved":
        return replace(plan, in_force=plan.drafted)
    if event_type == "StageSignedOff":
        return PlanFacts(signed_off(plan.drafted, data), signed_off(plan.in_force, data))
    if event_type == "StageReturned":
        return PlanFacts(returned(plan.drafted, data), returned(plan.in_force, data))
    if event_type == "ReturnClosed":
        return PlanFacts(return_closed(plan.drafted, data), return_closed(plan.in_force, data))
    return plan


def mastered_series(enrolled: Iterable[str], stages: Iterable[PlanStage]) -> list[str]:
    """R-14, sorted: enrollment's record, plus every series all of whose stages are done."""
    done: dict[str, bool] = {}
    for stage in stages:
        if stage.product_series:
            finished = stage.signed and not stage.reopened
            done[stage.product_series] = done.get(stage.product_series, True) and finished
    return sorted(set(enrolled) | {series for series, ok in done.items() if ok})


def trainers_on(stages: Iterable[PlanStage], series: str) -> set[str]:
    """R-24: the trainers who led the stages covering ``series``."""
    return {s.trainer_id for s in stages if s.product_series == series}


def covered(stage: PlanStage) -> frozenset[str]:
    """R-7a/R-8a: what the stage teaches, from its drafted row: the content codes it ``covers``
    and its ``topic`` (rows drafted before stages listed covers cover their topic only)."""
    spec = orjson.loads(stage.spec)
    topic = spec.get("topic")
    return frozenset(str(c) for c in spec.get("covers") or ()) | ({topic} if topic else set())


def trainers_covering(stages: Iterable[PlanStage], content: str) -> set[str]:
    """R-24 for a content session: the trainers who led the stages covering ``content``."""
    return {s.trainer_id for s in stages if content in covered(s)}


@dataclass(frozen=True)
class Enrolment:
    """The R-3 record of ``TraineeEnrolled`` that grading needs: how many certificates, never
    their names (sealed personal data, erased with the trainee)."""

    branch_id: str
    category: str
    education: str
    experience_years: Decimal
    certificate_count: int
    product_series: tuple[str, ...]

    @staticmethod
    def from_event(data: JsonDict) -> Enrolment:
        return Enrolment(
            branch_id=str(data["branch_id"]),
            category=str(data.get("category", "")),
            education=str(data["education"]),
            experience_years=Decimal(str(data.get("experience_years", 0))),
            certificate_count=certificate_count(data),
            product_series=tuple(data.get("product_series") or ()),
        )

    def facts(self, stages: Iterable[PlanStage]) -> TraineeFacts:
        """The R-21 inputs a grade decision records (R-22); ``stages``: those in force."""
        return TraineeFacts(
            education=Education(self.education),
            experience_years=self.experience_years,
            certificate_count=self.certificate_count,
            mastered_series=mastered_series(self.product_series, stages),
        )


@dataclass(frozen=True)
class TraineeRecord:
    """Everything above, folded from upstream events in order (the audit's replay)."""

    enrolment: Enrolment | None = None
    plan: PlanFacts = field(default_factory=PlanFacts)

    def facts(self) -> TraineeFacts | None:
        return None if self.enrolment is None else self.enrolment.facts(self.plan.in_force)


def evolve_record(record: TraineeRecord, event_type: str, data: JsonDict) -> TraineeRecord:
    if event_type == "TraineeEnrolled":
        return replace(record, enrolment=Enrolment.from_event(data))
    if event_type in PLAN_EVENTS:
        return replace(record, plan=evolve_plan(record.plan, event_type, data))
    return record
