"""What a branch posts for each of its trainees, from enrolment to a disputed grade.

One trainee's round (:meth:`TraineeRounds.trainee_round`): the branch clerk enrols, an examiner
scores the placement, the after-sales manager (production manager for production reserve) drafts
the plan, the executive vice-president approves it, trainers log days and sign stages, trainees
confirm and countersign (a few dissent, dispute or are sent back; a trainer notes that a
branch-commissioned trainee cannot keep up and the manager handles it), examiners score the final
exams, the manager disposes of the failed (a dealer's trainee keeps training at the dealer's
cost, on a remedial revision of its plan approved first, R-18a), and a grade is disputed and
corrected. Each step checks the answer against what the
scenario intends and notes any difference in ``problems``.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from rich.progress import Progress

from ops import scenario as sc
from ops.client import Api, JsonDict, Who

PER_BRANCH = 3  # trainees a branch works on at once

# Who the demo acts as: development tokens of the contract's roles.
MANAGER = Who("mgr-xu", "after_sales_manager")
PRODUCTION = Who("pm-gao", "production_manager")
EXEC_VP = Who("vp-song", "exec_vp")
PAYROLL = Who("pay-qian", "payroll")
MANAGEMENT = Who("gm-lin", "management")
AUDITOR = Who("aud-he", "auditor")


def given(**values: object) -> JsonDict:
    """A request body of the values given (None: left out), each as text (scores are decimals)."""
    return {name: str(value) for name, value in values.items() if value is not None}


def clerk(branch_id: str) -> Who:
    return Who(f"clerk-{branch_id}", "branch_clerk", branch_id=branch_id)


def examiner(department: str) -> Who:
    return Who(f"ex-{department}", "examiner", department=department)


def trainer(trainer_id: str) -> Who:
    return Who(trainer_id, "trainer")


def trainee(trainee_id: str) -> Who:
    return Who(trainee_id, "trainee")


class TraineeRounds:
    """The trainees' rounds of a scenario, posted through ``api``; what they found amiss."""

    def __init__(self, api: Api, scenario: sc.Scenario, progress: Progress | None) -> None:
        self.api = api
        self.s = scenario
        self.progress = progress
        self.problems: list[str] = []
        self.disputes: list[JsonDict] = []
        self.decided_on: dict[str, date] = {}

    def key(self, *parts: object) -> str:
        return ":".join(["demo", self.s.prefix, *map(str, parts)])

    def advance(self, task: Any, description: str | None = None) -> None:
        if self.progress is not None and task is not None:
            self.progress.update(task, advance=1, description=description)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)

    # --- one branch, concurrently with the others -------------------------------------------

    async def branch(self, branch_id: str, task: Any) -> None:
        limit = asyncio.Semaphore(PER_BRANCH)

        async def one(t: sc.Trainee) -> None:
            async with limit:
                await self.trainee_round(t, task)

        async with asyncio.TaskGroup() as group:
            for t in self.s.of_branch(branch_id):
                group.create_task(one(t))

    async def trainee_round(self, t: sc.Trainee, task: Any) -> None:
        label = f"{t.branch_id:<8} {t.trainee_id:<20}"
        await self.enrol(t)
        self.advance(task, f"{label}: enrolled, placed")
        await self.plan(t)
        self.advance(task, f"{label}: plan approved")
        await self.train(t)
        await self.concern(t)
        self.advance(task, f"{label}: trained")
        await self.examine(t)
        self.advance(task, f"{label}: examined")
        await self.dispose(t)
        await self.dispute(t)
        self.advance(task, f"{label}: done")

    async def enrol(self, t: sc.Trainee) -> None:
        body = {
            "trainee_id": t.trainee_id,
            "name": t.name,
            "category": t.category,
            "branch_id": t.branch_id,
            "education": t.education,
            "experience_years": str(t.experience_years),
            "certificates": list(t.certificates),
            "product_series": list(t.enrolled_series),
            "enrolled_on": t.enrolled_on.isoformat(),
        }
        await self.api.post(
            "enrollment", "/trainees", body, clerk(t.branch_id), self.key("enrol", t.trainee_id)
        )
        placement = given(written=t.placement_written, practical=t.placement_practical)
        placed = await self.api.post(
            "enrollment",
            f"/trainees/{t.trainee_id}/placement",
            placement,
            examiner("hr"),
            self.key("placement", t.trainee_id),
        )
        self.check(
            placed.get("plan_level") == t.plan_level,
            f"{t.trainee_id}: placement gave plan level {placed.get('plan_level')},"
            f" expected {t.plan_level} (R-6)",
        )

    def stage_rows(self, t: sc.Trainee) -> list[JsonDict]:
        """The plan table's rows as drafted (R-8), each stage with its R-7a covers."""
        rows = []
        for stage in t.stages:
            start, end = t.planned(stage.no)
            rows.append(self.stage_row(stage, start, end))
        return rows

    @staticmethod
    def stage_row(stage: sc.Stage, start: date, end: date) -> JsonDict:
        return {
            "no": stage.no,
            "content": stage.content,
            "department": sc.TRAINERS[stage.trainer_id].department,
            "trainer_id": stage.trainer_id,
            "product_series": stage.product_series,
            "topic": stage.topic,
            "covers": list(stage.covers),
            "planned_start": start.isoformat(),
            "planned_end": end.isoformat(),
        }

    async def plan(self, t: sc.Trainee) -> None:
        drafter = MANAGER if t.drafter == "after_sales_manager" else PRODUCTION
        # 404 with Retry-After until training has learnt the enrolment from the bus.
        await self.api.write(
            "training",
            "PUT",
            f"/plans/{t.trainee_id}",
            {"stages": self.stage_rows(t)},
            drafter,
            self.key("plan", t.trainee_id),
        )
        await self.plan_shows(t, "its placement (R-7)", lambda table: table["plan_level"])
        await self.api.post(
            "training",
            f"/plans/{t.trainee_id}/approve",
            {},
            EXEC_VP,
            self.key("approve", t.trainee_id),
        )

    async def plan_shows(self, t: sc.Trainee, what: str, shown: Any) -> None:
        """Until the plan table shows what training must have learnt from the bus first."""

        async def check() -> bool | None:
            table = await self.api.get_json("training", f"/plans/{t.trainee_id}", EXEC_VP)
            return True if shown(table) else None

        await self.api.until(f"training to learn {what} of {t.trainee_id}", check)

    async def train(self, t: sc.Trainee) -> None:
        plan = f"/plans/{t.trainee_id}"
        trainer_of = {s.no: s.trainer_id for s in t.stages}
        me = trainee(t.trainee_id)
        last: JsonDict = {}
        for n, step in enumerate(t.steps):  # n: a stage sent back is signed twice
            if isinstance(step, sc.TrainingDay):
                await self.day(t, step)
            elif isinstance(step, sc.SignOff):
                path = f"{plan}/stages/{step.stage}"
                await self.api.post(
                    "training",
                    f"{path}/sign-off",
                    {"assessment": step.assessment},
                    trainer(trainer_of[step.stage]),
                    self.key("sign", t.trainee_id, step.stage, n),
                )
                body: JsonDict = {"agree": step.agree}
                if step.comment:
                    body["comment"] = step.comment
                last = await self.api.post(
                    "training",
                    f"{path}/countersign",
                    body,
                    me,
                    self.key("countersign", t.trainee_id, step.stage, n),
                )
            else:
                await self.api.post(
                    "training",
                    f"{plan}/stages/{step.from_stage}/return",
                    {"to_stage": step.to_stage, "reason": step.reason},
                    trainer(trainer_of[step.from_stage]),
                    self.key("return", t.trainee_id, step.from_stage, step.to_stage, n),
                )
        self.check(
            last.get("status") == "completed",
            f"{t.trainee_id}: training ended {last.get('status')}, not completed",
        )

    async def concern(self, t: sc.Trainee) -> None:
        """R-12b: the trainer notes the trainee cannot keep up, the manager handles it (and the
        branch of a branch-commissioned trainee is told)."""
        concern = self.s.concerns().get(t.trainee_id)
        if concern is None:
            return
        plan = f"/plans/{t.trainee_id}"
        body = {"stage_no": concern.stage_no, "text": concern.text}
        noted = await self.api.post(
            "training",
            f"{plan}/concerns",
            body,
            trainer(concern.trainer_id),
            self.key("concern", t.trainee_id),
        )
        handling = {"verified": concern.verified, "handling": concern.handling}
        table = await self.api.post(
            "training",
            f"{plan}/concerns/{noted['concern_id']}/handling",
            handling,
            MANAGER,
            self.key("concern-handled", t.trainee_id),
        )
        handled = [c for c in table.get("concerns", []) if c["concern_id"] == noted["concern_id"]]
        self.check(
            bool(handled) and handled[0]["handling"] == concern.handling,
            f"{t.trainee_id}: the concern's handling is not on the plan (R-12b)",
        )

    async def day(self, t: sc.Trainee, day: sc.TrainingDay) -> None:
        stage = f"/plans/{t.trainee_id}/stages/{day.stage}"
        body = {
            "date": day.on.isoformat(),
            "content": day.content,
            "method": day.method,
            "hours": day.hours,
            "performance": day.performance,
            "effect": day.effect,
        }
        lead = next(s.trainer_id for s in (*t.stages, *t.remedial_stages) if s.no == day.stage)
        await self.api.post(
            "training",
            f"{stage}/days",
            body,
            trainer(lead),
            self.key("day", t.trainee_id, day.stage, day.on),
        )
        confirm: JsonDict = {"agree": day.agree}
        if not day.agree:
            confirm["comment"] = sc.DISSENT[day.stage % 2]
        await self.api.post(
            "training",
            f"{stage}/days/{day.on.isoformat()}/confirm",
            confirm,
            trainee(t.trainee_id),
            self.key("confirm", t.trainee_id, day.stage, day.on),
        )

    async def known_to_assessment(self, t: sc.Trainee) -> None:
        """Assessment grades on what it learnt from enrollment and training (R-14, R-21): wait
        until its inbox holds the enrolment and the completed training."""

        async def arrived() -> bool | None:
            answer = await self.api.get("assessment", f"/trainees/{t.trainee_id}/audit", AUDITOR)
            if answer.status_code != 200:
                return None
            seen = {(e["service"], e["type"]) for e in answer.json()["events"]}
            wanted = {("enrollment", "TraineeEnrolled"), ("training", "TrainingCompleted")}
            return True if wanted <= seen else None

        await self.api.until(
            f"assessment to learn {t.trainee_id}'s enrolment and training", arrived
        )

    async def examine(self, t: sc.Trainee) -> None:
        await self.known_to_assessment(t)
        session = f"/sessions/{self.s.session_id(t.main_series)}"
        body: JsonDict = {"trainee_id": t.trainee_id, "score": str(t.written)}
        await self.api.post(
            "assessment",
            f"{session}/written",
            body,
            examiner(t.written_examiner),
            self.key("written", t.trainee_id),
            stored_not_found=True,
        )
        answer: JsonDict = {}
        for department, score in zip(sc.DEPARTMENTS, t.practical, strict=True):
            body = {"trainee_id": t.trainee_id, "department": department, "score": str(score)}
            answer = await self.api.post(
                "assessment",
                f"{session}/practical",
                body,
                examiner(department),
                self.key("practical", t.trainee_id, department),
                stored_not_found=True,
            )
        expected = self.first_grade(t)
        decision = answer.get("decision") or {}
        got = (decision.get("type"), decision.get("position"), decision.get("level"))
        want = (
            "GradeAssigned" if expected.passed else "AssessmentFailed",
            expected.position,
            expected.level,
        )
        self.check(got == want, f"{t.trainee_id}: decided {got}, expected {want}")

    def first_grade(self, t: sc.Trainee) -> sc.Grade:
        for d in self.s.disputes:
            if d.trainee_id == t.trainee_id and d.before is not None:
                return d.before
        return t.grade

    async def dispose(self, t: sc.Trainee) -> None:
        """R-18 for the failed; R-19: a dealer that insists pays for the days trained after."""
        if t.disposition is None:
            return
        reasons = {
            "continue_training": "经销商坚持继续培训 the dealer insists on further training",
            "reserve": "理论基础薄弱，转储备 weak theory: kept in reserve",
            "workshop": "实操不达标，下放车间 practical below standard: back to the workshop",
        }
        decided = await self.api.post(
            "assessment",
            f"/trainees/{t.trainee_id}/disposition",
            {
                "outcome": t.disposition,
                "reason": reasons[t.disposition],
                "session_id": self.s.session_id(t.main_series),
            },
            MANAGER,
            self.key("disposition", t.trainee_id),
        )
        if t.disposition != "continue_training":
            return
        on = date.fromisoformat(str(decided["decided_on"]))
        self.decided_on[t.trainee_id] = on
        await self.remedial_revision(t, on)
        for stage in t.remedial_stages:  # two records on one date: R-19 charges the date once
            content = f"复训 retraining: {stage.content.split(': ')[-1]}"
            await self.day(
                t,
                sc.TrainingDay(
                    stage.no, on, True, content, sc.METHODS[0], sc.PERFORMANCE[3], sc.EFFECT[1], "8"
                ),
            )

    async def remedial_revision(self, t: sc.Trainee, on: date) -> None:
        """R-18a: the manager drafts the remedial revision (the completed stages kept, the
        retraining stages after them), and the executive vice-president approves it before any
        remedial day (R-9)."""
        # Due once training learnt the disposition; a second run finds the revision drafted.
        due = lambda table: table["remedial_due"] or table["remedial"]  # noqa: E731
        await self.plan_shows(t, "the disposition (R-18a)", due)
        end = on + timedelta(days=14)
        added = [self.stage_row(stage, on, end) for stage in t.remedial_stages]
        await self.api.write(
            "training",
            "PUT",
            f"/plans/{t.trainee_id}",
            {"stages": [*self.stage_rows(t), *added]},
            MANAGER,
            self.key("remedial-plan", t.trainee_id),
        )
        await self.api.post(
            "training",
            f"/plans/{t.trainee_id}/approve",
            {},
            EXEC_VP,
            self.key("remedial-approve", t.trainee_id),
        )

    async def dispute(self, t: sc.Trainee) -> None:
        for d in self.s.disputes:
            if d.trainee_id != t.trainee_id:
                continue
            who = trainee(t.trainee_id) if d.by == "trainee" else clerk(t.branch_id)
            filed = await self.api.post(
                "assessment",
                f"/trainees/{t.trainee_id}/disputes",
                {"reason": d.reason},
                who,
                self.key("dispute", t.trainee_id),
            )
            resolved = await self.api.post(
                "assessment",
                f"/disputes/{filed['dispute_id']}/resolve",
                given(outcome=d.outcome, written=d.written),
                MANAGER,
                self.key("resolve", t.trainee_id),
            )
            grade = resolved.get("grade") or {}
            got = (grade.get("position"), grade.get("level"))
            self.check(
                got == (t.grade.position, t.grade.level),
                f"{t.trainee_id}: dispute gave {got}, expected {(t.grade.position, t.grade.level)}",
            )
            self.disputes.append(
                {
                    "trainee_id": t.trainee_id,
                    "dispute_id": filed["dispute_id"],
                    "outcome": d.outcome,
                    "before": None if d.before is None else f"{d.before.position} {d.before.level}",
                    "after": f"{t.grade.position} {t.grade.level}",
                }
            )
