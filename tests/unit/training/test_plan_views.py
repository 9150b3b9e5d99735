"""R-14 mastered series, the plan table of GET /plans/{trainee_id}, and the events' wire form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import orjson
import pytest

from services.training.domain.events import registry
from services.training.domain.mastery import mastered_series
from services.training.domain.plan import PLAN, stream_id
from services.training.domain.plan_table import plan_table
from services.training.domain.vocabulary import Department, Topic
from shared.decider import NotFound
from shared.events import Envelope

from .plans import (
    ALL,
    STAGES,
    TRAINEE,
    YESTERDAY,
    approved,
    assessed,
    completed,
    confirmed,
    drafted,
    given,
    in_force,
    logged,
    returned,
    signed,
    signed_off,
    spec,
)


def test_r14_a_series_is_mastered_when_every_stage_covering_it_is_signed_off():
    assert mastered_series(given(*in_force(), *signed_off(1, 2, 3, 4, 7))) == {"X2"}
    assert mastered_series(given(*in_force(), *signed_off(5, 7))) == {"X2"}  # X1: stage 6 open
    assert mastered_series(given(*in_force(), *signed_off(5, 6, 7))) == {"X1", "X2"}


def test_r14_a_disputed_sign_off_still_masters_the_series():
    state = given(*in_force(), assessed(7), signed(7, disputed=True))
    assert mastered_series(state) == {"X2"}


def test_r14_a_reopened_stage_unmasters_its_series_until_signed_off_again():
    history = [*in_force(), *signed_off(5, 6, 7), returned(7, 5)]
    assert mastered_series(given(*history)) == {"X2"}
    assert mastered_series(given(*history, *signed_off(5))) == {"X1", "X2"}


def test_r14_nothing_is_mastered_from_an_empty_or_unsigned_plan():
    assert mastered_series(given()) == set()
    assert mastered_series(given(*in_force(), assessed(5), assessed(6))) == set()


# R-9 with R-14: only the approved revision counts. X1 is taught by stages 5 and 6, X2 by 7.
WITHOUT_STAGE_6 = tuple(s for s in STAGES if s.no != 6)
WITH_STAGE_8_ON_X2 = (*STAGES, spec(8, Topic.PRODUCT, Department.TECHNICAL, "tr-tech", "X2"))


def test_r9_r14_an_unapproved_redraft_dropping_an_open_stage_masters_nothing_yet():
    # Given stage 5 of X1 signed off and stage 6 still open in the approved plan
    history = [*in_force(), *signed_off(5, 7)]
    # When a re-draft drops stage 6, awaiting approval
    redrafted = [*history, drafted(WITHOUT_STAGE_6, revision=2)]
    # Then X1 is not mastered until the VP approves that revision
    assert mastered_series(given(*redrafted)) == {"X2"}
    assert mastered_series(given(*redrafted, approved(revision=2))) == {"X1", "X2"}


def test_r9_r14_an_unapproved_stage_added_unmasters_nothing_yet():
    # Given X2's only stage signed off in the approved plan
    history = [*in_force(), *signed_off(7)]
    # When a re-draft adds a second stage on X2, awaiting approval
    redrafted = [*history, drafted(WITH_STAGE_8_ON_X2, revision=2)]
    # Then X2 stays mastered until that revision is approved
    assert mastered_series(given(*redrafted)) == {"X2"}
    assert mastered_series(given(*redrafted, approved(revision=2))) == set()


def test_r9_r14_a_plan_never_approved_masters_nothing():
    assert mastered_series(given(drafted())) == set()


def test_r9_the_plan_table_shows_the_mastery_of_the_approved_revision():
    table = plan_table(given(*in_force(), *signed_off(5, 7), drafted(WITHOUT_STAGE_6, 2)), 1)
    assert (table["status"], table["mastered_series"]) == ("draft", ["X2"])


def test_the_plan_table_has_the_contracts_shape():
    history = [*in_force(), logged(5, hours="7.5"), confirmed(5, agree=False, comment="4h only")]
    history += [logged(5, on=date(2026, 3, 10)), *signed_off(1), assessed(5)]
    table = plan_table(given(*history), version=len(history))
    assert {k: table[k] for k in ("trainee_id", "status", "version", "revision")} == {
        "trainee_id": TRAINEE,
        "status": "approved",
        "version": 8,
        "revision": 1,
    }
    assert [s["no"] for s in table["stages"]] == list(ALL)
    first, fifth = table["stages"][0], table["stages"][4]
    assert (first["status"], first["disputed"], first["trainer_assessment"]) == (
        "signed_off",
        False,
        "goal reached",
    )
    assert {k: fifth[k] for k in ("department", "trainer_id", "product_series", "topic")} == {
        "department": "technical",
        "trainer_id": "tr-tech",
        "product_series": "X1",
        "topic": "product",
    }
    assert (fifth["status"], fifth["trainer_assessment"]) == ("open", "goal reached")
    days = [{k: d[k] for k in ("date", "hours", "confirmed", "agree")} for d in fifth["days"]]
    assert days == [
        {"date": "2026-03-10", "hours": "8", "confirmed": False, "agree": None},
        {"date": YESTERDAY.isoformat(), "hours": "7.5", "confirmed": True, "agree": False},
    ]
    orjson.dumps(table)  # JSON-ready as it is


def test_the_plan_table_shows_reopened_disputed_and_completed_stages():
    history = [*in_force(), *signed_off(1), returned(2, 1)]
    assert plan_table(given(*history), 1)["stages"][0]["status"] == "reopened"
    done = [*in_force(), *signed_off(*ALL[:-1]), assessed(7), signed(7, disputed=True), completed()]
    table = plan_table(given(*done), len(done))
    assert (table["status"], table["stages"][6]["disputed"]) == ("completed", True)
    assert table["mastered_series"] == ["X1", "X2"]


def test_there_is_no_plan_table_before_a_draft():
    with pytest.raises(NotFound):
        plan_table(given(), 0)


def test_events_survive_the_wire_with_exact_dates_and_hours():
    """The plan folded from stored JSON equals the plan folded from the decided events, so a
    re-draft recognises unchanged stages after a round trip through the store."""
    events = [
        drafted(),
        approved(),
        logged(5, hours="7.25"),
        confirmed(5, agree=False, comment="no"),
        *signed_off(5),
        returned(6, 5),
        drafted(STAGES[:6], revision=2),
        completed(),
    ]
    decoded = [_round_trip(e) for e in events]
    assert decoded == events
    assert decoded[2].hours == Decimal("7.25") and decoded[2].date == YESTERDAY
    assert PLAN.fold(decoded) == PLAN.fold(events)
    assert stream_id(TRAINEE) == "plan-t-1"


def _round_trip(event):
    new = registry.encode(event)
    envelope = Envelope.from_json(
        orjson.dumps(
            {
                "event_id": str(new.event_id),
                "stream_id": "plan-t-1",
                "version": 1,
                "position": 1,
                "type": new.type,
                "schema_version": new.schema_version,
                "occurred_at": "2026-03-16T09:00:00+00:00",
                "recorded_at": "2026-03-16T09:00:00+00:00",
                "data": orjson.loads(orjson.dumps(new.data)),
                "actor": {"sub": "x", "role": "y"},
            }
        )
    )
    return registry.decode(envelope)
