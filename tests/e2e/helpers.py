"""What the e2e tests do alike: the calls of an enrolment, an exam sitting, a training day, a
payroll run and a plan drafted once training knows the trainee, each asserting its status, and a
pinned clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.auth import Role
from tests.support import (
    RunningService,
    enrolment,
    ok,
    register_branches,
    standard_branches,
    until,
)

# The apps in the order they start: the consumers first, enrollment last.
FACTORIES = {
    "compensation": compensation_app,
    "assessment": assessment_app,
    "training": training_app,
    "enrollment": enrollment_app,
}
CONSUMERS = ("compensation", "assessment", "training")
DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
PRACTICAL = ("96", "95", "97", "98", "94")  # mean 96 (example A)
# Example A's trainee: an HQ full-timer, 4 years in, who knows three product series.
HQ_TRAINEE = {
    "name": "王强",
    "category": "hq_full_time",
    "branch_id": "hq",
    "experience_years": 4,
    "product_series": ["X1", "X2", "X3"],
}


class Clock:
    """The pinned ``now`` of every app (``app.state.clock``), moved on by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str) -> None:
        self.now = datetime.combine(date.fromisoformat(day), self.now.timetz())


def pinned_clock() -> Clock:
    return Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def enrol(
    enrollment: RunningService, trainee_id: str, placed: bool = False, **changes: object
) -> None:
    """An after-sales manager enrols the trainee (see ``tests.support.enrolment``) and, when
    ``placed``, records its placement (R-6: written 85, an intermediate plan; R-7 needs it)."""
    body = enrolment(trainee_id, **changes)
    await register_branches(enrollment, standard_branches(str(body["branch_id"])))
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
    if placed:
        await place(enrollment, trainee_id)


async def place(enrollment: RunningService, trainee_id: str, written: str = "85") -> None:
    """The placement exam's written score (R-6): it fixes the plan level approval needs (R-7)."""
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    path = f"/trainees/{trainee_id}/placement"
    await ok(enrollment.client.post(path, json={"written": written}, headers=manager))


async def approve_once_placed(training: RunningService, trainee_id: str) -> dict:
    """POST /plans/{id}/approve answers 409 R-7 until the placement has come over the bus;
    then it approves. Answers the plan table."""
    vp = training.as_("vp", Role.EXEC_VP)

    async def attempt():
        answer = await training.client.post(f"/plans/{trainee_id}/approve", json={}, headers=vp)
        waiting = answer.status_code == 409 and "placement" in answer.text
        assert answer.status_code == 200 or waiting, answer.text
        return None if waiting else answer.json()

    return await until(attempt)


async def known_to_assessment(assessment: RunningService, trainee_id: str) -> None:
    """Until the enrolment has come over the bus into assessment's trainee facts."""
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT 1 FROM trainee_facts WHERE trainee_id = $1 AND branch_id IS NOT NULL",
            trainee_id,
        )
    )


async def open_session(assessment: RunningService, session_id, series, held_on) -> None:
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    body = {"session_id": session_id, "product_series": series, "held_on": held_on}
    await ok(assessment.client.post("/sessions", json=body, headers=manager), 201)


async def sit(assessment: RunningService, session_id, trainee_id, written) -> dict:
    """The six scores of one sitting (R-15, R-16); answers the decision the last one made."""
    client = assessment.client
    hr = assessment.as_("ex-hr", Role.EXAMINER, department="hr")
    body = {"trainee_id": trainee_id, "score": written}
    await ok(client.post(f"/sessions/{session_id}/written", json=body, headers=hr), 201)
    for department, score in zip(DEPARTMENTS, PRACTICAL, strict=True):
        examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
        body = {"trainee_id": trainee_id, "department": department, "score": score}
        path = f"/sessions/{session_id}/practical"
        sitting = await ok(client.post(path, json=body, headers=examiner), 201)
    return sitting["decision"]


async def draft_once_known(training: RunningService, trainee_id: str, stages) -> None:
    """PUT /plans answers 404 until the enrolment has come over the bus; then it drafts."""
    manager = training.as_("mgr", Role.AFTER_SALES_MANAGER)

    async def attempt():
        answer = await training.client.put(
            f"/plans/{trainee_id}", json={"stages": stages}, headers=manager
        )
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 200

    await until(attempt)


async def approved_plans(
    training: RunningService,
    assessment: RunningService,
    trainee_ids,
    stages,
    trainer: str,
    series: str,
) -> None:
    """Each trainee's plan drafted (once training knows the trainee) and approved (once its
    placement arrived: the trainees must have been placed, R-7), then until
    assessment has learnt from the approved plans that every one is ``trainer``'s on ``series``
    (R-9: a plan in draft names no one answerable under R-24)."""
    for trainee_id in trainee_ids:
        await draft_once_known(training, trainee_id, stages)
        await approve_once_placed(training, trainee_id)
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT count(DISTINCT s.trainee_id) = $3 FROM plan_stages_in_force s"
            " JOIN trainee_facts f USING (trainee_id)"
            " WHERE s.trainer_id = $1 AND s.product_series = $2 AND f.branch_id IS NOT NULL",
            trainer,
            series,
            len(trainee_ids),
        )
    )


async def pay_rate(pay: RunningService, employee_id: str) -> dict | None:
    """GET /employees/{id}/pay-rate, or None while compensation has set none."""
    payroll = pay.as_("pay-1", Role.PAYROLL)
    answer = await pay.client.get(f"/employees/{employee_id}/pay-rate", headers=payroll)
    return answer.json() if answer.status_code == 200 else None


async def log_day(training: RunningService, trainee_id, stage_no, trainer, day) -> None:
    """The trainer logs a day of training on the stage (R-10)."""
    body = {
        "date": day,
        "content": "fault finding",
        "method": "hands-on",
        "hours": "8",
        "performance": "slow",
        "effect": "improving",
    }
    path = f"/plans/{trainee_id}/stages/{stage_no}/days"
    headers = training.as_(trainer, Role.TRAINER)
    await ok(training.client.post(path, json=body, headers=headers), 201)


async def run_payroll(pay: RunningService, month: str) -> dict:
    """POST /payroll/{month}/run as payroll; what the run says it issued."""
    payroll = pay.as_("pay-1", Role.PAYROLL)
    return await ok(pay.client.post(f"/payroll/{month}/run", headers=payroll))
