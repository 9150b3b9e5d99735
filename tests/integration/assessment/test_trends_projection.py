"""The ``trends`` projection's monthly tables: what counts (a first decision with a position, a
failure, a fine above 0), what does not (a dispute's corrected decision, a pass without a
position, a penalty below the lowest tier), and in which month: the UTC month of the moment,
whatever zone it was written in. Batches leave the same rows as event by event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.assessment.trends import TRENDS
from tests.integration.test_projection_batches import assert_batches_match_events, event


def graded(trainee: str, at: str, **more) -> dict:
    return {
        "trainee_id": trainee,
        "session_id": "s-1",
        "position": "technician",
        "assigned_at": at,
        **more,
    }


def penalty(trainer: str, fine: str, on: str) -> dict:
    return {"session_id": "s-1", "trainer_id": trainer, "fine": fine, "assessed_on": on}


async def test_the_monthly_tables_count_first_decisions_in_utc_months(pg_pool, pg_store):
    # 07:30 in Beijing on 1 February is 23:30 UTC on 31 January: January's.
    await event(pg_store, "a-1", "GradeAssigned", graded("t-1", "2026-02-01T07:30:00+08:00"), "hq")
    await event(pg_store, "a-2", "GradeAssigned", graded("t-2", "2026-02-01T00:00:00+00:00"), "hq")
    reserve = {**graded("t-3", "2026-02-10T09:00:00+00:00"), "position": None}
    await event(pg_store, "a-3", "GradeAssigned", reserve, "hq")  # passed, no grade
    correction = graded("t-2", "2026-03-02T09:00:00+00:00", supersedes="x", dispute_id="d-1")
    await event(pg_store, "a-2", "GradeAssigned", correction, "hq")  # not counted again
    failed = {"trainee_id": "t-4", "session_id": "s-1", "assessed_at": "2026-02-28T23:59:59Z"}
    await event(pg_store, "a-4", "AssessmentFailed", failed, "bo-east")
    await event(pg_store, "s-1", "TrainerPenaltyAssessed", penalty("tr-1", "150", "2026-02-28"))
    await event(pg_store, "s-1", "TrainerPenaltyAssessed", penalty("tr-1", "50", "2026-03-01"))
    await event(pg_store, "s-1", "TrainerPenaltyAssessed", penalty("tr-2", "0", "2026-03-01"))
    await event(pg_store, "s-1", "TrainerPenaltyAssessed", penalty("tr-1", "200.50", "2026-03-31"))
    rows = await assert_batches_match_events(pg_pool, TRENDS)
    assert sorted(rows["monthly_decisions"]) == [
        (date(2026, 1, 1), "hq", 1, 0),
        (date(2026, 2, 1), "bo-east", 0, 1),
        (date(2026, 2, 1), "hq", 1, 0),
    ]
    assert sorted(rows["monthly_fines"]) == [
        (date(2026, 2, 1), "tr-1", 1, Decimal("150")),
        (date(2026, 3, 1), "tr-1", 2, Decimal("250.50")),
    ]
