"""Set-wise ``apply_batch`` leaves the read model exactly as ``apply`` event by event does.

Each history below is built through the real store (and inbox), then rebuilt once event by event
(the projection without ``apply_batch``) and once per batch size with ``apply_batch``, cutting the
history at different points; every table must hold the same rows each time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.assessment.projections import GRADE_BOARD, grade_rows
from services.compensation.projections import PAYSLIPS
from services.enrollment.projections import DIRECTORY
from services.training.projections import PROGRESS
from shared.consumer import handle_once
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.personal import ERASED
from shared.projections import Projection, ProjectionRunner, rebuild, verify
from tests.support import delivered

BATCH_SIZES = (1, 2, 3, 7, 5000)


async def tables(pool, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    names = await pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        projection.schema,
    )
    found = {}
    for (name,) in names:
        rows = await pool.fetch(f"SELECT * FROM {projection.schema}.{name}")
        found[name] = sorted((tuple(r) for r in rows), key=repr)
    return found


async def assert_batches_match_events(pool, projection: Projection) -> dict[str, list[Any]]:
    one_by_one = dataclasses.replace(projection, apply_batch=None)
    await rebuild(pool, "core", one_by_one)
    expected = await tables(pool, projection)
    assert any(expected.values()), "the history projects to nothing: the test proves nothing"
    for size in BATCH_SIZES:
        await rebuild(pool, "core", projection, batch_size=size)
        found = await tables(pool, projection)
        for table, rows in expected.items():
            extra = [r for r in found[table] if r not in rows]
            missing = [r for r in rows if r not in found[table]]
            assert found[table] == rows, f"{table}, batches of {size}: {extra=} {missing=}"
    return expected


async def event(store, stream: str, type_: str, data: dict[str, Any], branch: str | None = None):
    await store.append(stream, [NewEvent(type=type_, data=data, branch_id=branch)], ANY_VERSION)


async def upstream(pool, service: str, stream: str, version: int, type_: str, data: dict) -> None:
    envelope = delivered(service, type_, stream, data, version, at=datetime.now(UTC))
    assert await handle_once(pool, _ignore, envelope)


async def _ignore(conn, envelope) -> None:
    return None


# --- enrollment: the trainee directory -----------------------------------------------------------


def enrolment(trainee_id: str, branch: str = "dl-north") -> dict[str, Any]:
    return {
        "trainee_id": trainee_id,
        "name": f"name {trainee_id}",
        "category": "hq_full_time",
        "branch_id": branch,
        "education": "high_school",
        "experience_years": "2.5",
        "certificates": ["ase"],
        "product_series": ["X1"],
        "enrolled_on": "2026-03-02",
    }


def erasure(person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "reason": "asked",
        "erased_at": "2026-03-05T10:00:00+00:00",
        "erased_by": "admin-1",
    }


async def test_directory_batches_equal_event_by_event(pg_pool, pg_store):
    placed = {"position": "technician", "plan_level": "intermediate"}
    await event(pg_store, "trainee-t0", "PlacementExamScored", {"trainee_id": "t0", **placed})
    for n in range(6):
        await event(pg_store, f"trainee-t{n}", "TraineeEnrolled", enrolment(f"t{n}"))
    await event(pg_store, "trainee-t1", "TraineeEnrolled", enrolment("t1", "other"))  # ignored
    await event(pg_store, "trainee-t1", "PlacementExamScored", {"trainee_id": "t1", **placed})
    await event(pg_store, "trainee-t2", "TraineeWithdrawn", {"trainee_id": "t2", "reason": "x"})
    await event(pg_store, "trainee-t3", "PlacementExamScored", {"trainee_id": "t3", **placed})
    await event(pg_store, "trainee-t3", "TraineeWithdrawn", {"trainee_id": "t3", "reason": "x"})
    await event(pg_store, "trainee-t9", "TraineeWithdrawn", {"trainee_id": "t9", "reason": "x"})
    for person in ("t4", "t9", "t5"):  # issue 19: erased, t9 never enrolled
        await event(pg_store, f"person-{person}", "PersonalDataErased", erasure(person))
    await event(pg_store, "trainee-t5", "PlacementExamScored", {"trainee_id": "t5", **placed})
    rows = await assert_batches_match_events(pg_pool, DIRECTORY)
    by_id = {r[0]: r for r in rows["trainees"]}
    assert (by_id["t4"][1], by_id["t4"][6], by_id["t4"][9]) == (ERASED, [ERASED], "enrolled")
    assert (by_id["t5"][1], by_id["t5"][9]) == (ERASED, "placed")
    assert by_id["t2"][1] == "name t2"
    assert (by_id["t0"][9], by_id["t1"][3], by_id["t1"][9]) == ("enrolled", "dl-north", "placed")
    assert (by_id["t3"][9], by_id["t3"][10], by_id["t3"][12]) == ("withdrawn", "technician", 3)
    assert "t9" not in by_id


# --- training: the progress board (events and inbox) --------------------------------------------


def stage(no: int, trainer: str, end: str = "2026-03-06") -> dict[str, Any]:
    return {
        "no": no,
        "content": f"stage {no}",
        "department": "technical",
        "trainer_id": trainer,
        "product_series": "X1",
        "topic": "product",
        "planned_start": "2026-03-02",
        "planned_end": end,
    }


async def test_progress_batches_equal_event_by_event(pg_pool, pg_store):
    """R-10 dissent, R-11 disputed sign-off, R-12 send-back, R-13 demerit, a redraft that keeps
    an unchanged stage's sign-off, and enrolments arriving before and after the plan."""
    await upstream(
        pg_pool,
        "enrollment",
        "trainee-a",
        1,
        "TraineeEnrolled",
        {"trainee_id": "a", "branch_id": "dl-north"},
    )
    plan, t = "plan-a", {"trainee_id": "a"}
    await event(
        pg_store,
        plan,
        "PlanDrafted",
        {**t, "stages": [stage(1, "tr-1"), stage(2, "tr-2")]},
        "dl-north",
    )
    await event(pg_store, plan, "PlanApproved", t, "dl-north")
    for day in ("2026-03-02", "2026-03-03"):
        await event(
            pg_store,
            plan,
            "TrainingDayLogged",
            {**t, "stage_no": 1, "date": day, "trainer_id": "tr-1"},
            "dl-north",
        )
    await event(
        pg_store,
        plan,
        "TrainingDayLogged",
        {**t, "stage_no": 1, "date": "2026-03-02", "trainer_id": "tr-9"},
    )
    for day, agree in (("2026-03-02", False), ("2026-03-03", True), ("2026-03-04", False)):
        await event(
            pg_store,
            plan,
            "TrainingDayConfirmed",
            {**t, "stage_no": 1, "date": day, "agree": agree},
        )
    signed = {**t, "trainer_id": "tr-1", "disputed": True}
    await event(pg_store, plan, "StageSignedOff", {**signed, "stage_no": 1})
    await event(
        pg_store,
        plan,
        "StageSignedOff",
        {**signed, "stage_no": 2, "trainer_id": "tr-2", "disputed": False},
        "dl-north",
    )
    await event(pg_store, plan, "StageReturned", {**t, "to_stage": 1, "reason": "r"})
    await event(pg_store, plan, "StageReturned", {**t, "to_stage": 7, "reason": "r"}, "dl-north")
    await event(pg_store, plan, "ReturnClosed", {**t, "stage_no": 1, "returned_from": 2})
    redraft = [stage(1, "tr-1"), stage(2, "tr-2"), stage(3, "tr-3")]
    await event(pg_store, plan, "PlanDrafted", {**t, "stages": redraft}, "dl-north")
    await event(pg_store, plan, "PlanDrafted", {**t, "stages": [stage(2, "tr-4", "2026-04-01")]})
    await event(pg_store, plan, "TrainingCompleted", t)
    await event(
        pg_store,
        "plan-b",
        "PlanDrafted",
        {"trainee_id": "b", "stages": [stage(1, "tr-1")]},
        "dl-south",
    )
    await event(
        pg_store,
        "trainer-tr-1",
        "TrainerDemeritRecorded",
        {"trainer_id": "tr-1", "trainee_id": "a"},
        "dl-north",
    )
    await event(pg_store, "trainer-tr-2", "TrainerDemeritRecorded", {"trainer_id": "tr-2"})
    await upstream(
        pg_pool,
        "enrollment",
        "trainee-b",
        1,
        "TraineeEnrolled",
        {"trainee_id": "b", "branch_id": "sh-east"},
    )
    await upstream(pg_pool, "enrollment", "trainee-b", 2, "TraineeWithdrawn", {"trainee_id": "b"})
    await upstream(pg_pool, "enrollment", "trainee-c", 1, "TraineeWithdrawn", {"trainee_id": "c"})
    rows = await assert_batches_match_events(pg_pool, PROGRESS)
    assert ("dl-north", 1, 2) in rows["branch_tallies"]
    assert ("tr-1", "dl-north", 1, 1, 1, 1) in rows["trainer_tallies"]
    assert [(r[1], r[3], r[5]) for r in rows["stages"] if r[0] == "a"] == [(2, "tr-4", False)]


async def test_progress_runner_applies_batches_and_verifies(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [PROGRESS], batch_size=4)
    await runner.prepare()
    for n in range(10):
        await event(
            pg_store,
            f"plan-{n}",
            "PlanDrafted",
            {"trainee_id": f"p{n}", "stages": [stage(1, "tr-1")]},
            "dl-north",
        )
        await event(
            pg_store,
            f"plan-{n}",
            "StageSignedOff",
            {"trainee_id": f"p{n}", "stage_no": 1, "trainer_id": "tr-1", "disputed": True},
        )
    await runner.catch_up()
    assert await pg_pool.fetchval("SELECT disputes FROM proj_progress.branch_tallies") == 10
    assert await verify(pg_pool, "core", PROGRESS) == []


# --- assessment: the grade board -------------------------------------------------------------


def decision(trainee_id: str, level: str | None, session: str = "s-1") -> dict[str, Any]:
    graded = {"position": "engineer", "level": level, "grade_score": "95.5"} if level else {}
    return {"trainee_id": trainee_id, "session_id": session, **graded}


@pytest.mark.parametrize("corrections", [0, 3])
async def test_grade_board_batches_equal_event_by_event(pg_pool, pg_store, corrections):
    for n in range(6):
        await event(pg_store, f"sit-{n}", "GradeAssigned", decision(f"t{n}", "junior"), "dl-north")
        await event(pg_store, f"sit-{n}", "ExamScored", {"trainee_id": f"t{n}"}, "dl-north")
    for n in range(corrections):
        await event(pg_store, f"sit-{n}", "GradeAssigned", decision(f"t{n}", "senior"), "dl-north")
    await event(pg_store, "sit-5", "AssessmentFailed", decision("t5", None, "s-2"), "dl-south")
    rows = await assert_batches_match_events(pg_pool, GRADE_BOARD)
    assert len(rows["grade_history"]) == 7 + corrections
    levels = {r[0]: r[4] for r in rows["grades"]}
    assert levels["t0"] == ("senior" if corrections else "junior") and levels["t5"] is None


async def test_grade_board_as_of_reads_the_history_and_what_is_not_projected_yet(pg_pool, pg_store):
    """R-23: a correction replaces the first grade from the moment it was recorded."""
    runner = ProjectionRunner(pg_pool, "core", [GRADE_BOARD])
    await runner.prepare()
    await event(pg_store, "sit-1", "GradeAssigned", decision("t1", "junior"), "dl-north")
    await event(pg_store, "sit-2", "GradeAssigned", decision("t2", "junior"), "dl-south")
    await runner.catch_up()
    first = await pg_pool.fetchval("SELECT max(recorded_at) FROM events")
    await asyncio.sleep(0.01)
    await event(pg_store, "sit-1", "GradeAssigned", decision("t1", "senior"), "dl-north")
    await event(pg_store, "sit-2", "AssessmentFailed", decision("t2", None), "dl-south")
    later = await pg_pool.fetchval("SELECT max(recorded_at) FROM events")

    async def board(moment, branch=None):
        rows = await grade_rows(pg_pool, GRADE_BOARD.schema, branch, moment)
        return [(r["branch_id"], r["level"], r["trainee_ids"]) for r in rows]

    for projected in (False, True):  # the corrections from the store, then from the history
        assert await board(first) == [
            ("dl-north", "junior", ["t1"]),
            ("dl-south", "junior", ["t2"]),
        ]
        assert await board(first, "dl-south") == [("dl-south", "junior", ["t2"])]
        assert await board(later) == [("dl-north", "senior", ["t1"])]
        assert await board(first - timedelta(seconds=5)) == []
        assert projected or await runner.lag() == {"grade_board": 2}
        await runner.catch_up()
    assert await board(later) == await board(None)
    assert await verify(pg_pool, "core", GRADE_BOARD) == []  # live (runner) == rebuild


# --- compensation: payslips across months -----------------------------------------------------


def payslip(employee: str, total: str, supersedes: uuid.UUID | None = None, pid=None) -> dict:
    return {
        "payslip_id": str(pid or uuid.uuid4()),
        "month": "2026-03",
        "employee_id": employee,
        "lines": [{"name": "position", "amount": total, "rule": "R-25"}],
        "total": total,
        "supersedes": None if supersedes is None else str(supersedes),
        "difference": None if supersedes is None else "100.00",
    }


async def test_payslip_batches_equal_event_by_event_r32(pg_pool, pg_store):
    """R-32: a corrected payslip stands beside the old one, which is marked superseded."""
    first, later = uuid.uuid4(), uuid.uuid4()
    slips = [payslip(f"e{n}", "2700.00") for n in range(5)]
    slips[0]["payslip_id"] = str(first)
    slips += [payslip("e0", "2800.00", first), payslip("e1", "2800.00", later)]
    slips += [payslip("e1", "2900.00", pid=later)]  # superseded before it was issued: stays
    for data in slips:
        await event(pg_store, "payroll-2026-03", "PayslipIssued", data)
    rows = await assert_batches_match_events(pg_pool, PAYSLIPS)
    superseded = {r[0] for r in rows["payslips"] if r[8]}
    assert superseded == {first}
    assert [r[4] for r in rows["payslips"] if r[0] == first] == [slips[0]["lines"]]
