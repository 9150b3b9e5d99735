"""R-2, R-12b: what each upstream event tells a branch about its trainee, read tolerantly."""

from __future__ import annotations

from datetime import date

import pytest

from services.compensation.domain.feed import FeedKind, erased_details, feed_entry


def test_a_grade_shows_position_level_and_scores():
    entry = feed_entry(
        "assessment",
        "GradeAssigned",
        {
            "trainee_id": "t-1",
            "position": "engineer",
            "level": "intermediate",
            "grade_score": "95.5",
            "written": "95",
            "practical_mean": "96",
            "capped_by": [],
            "assigned_at": "2026-03-20T09:00:00+00:00",
            "supersedes": None,
            "rule_trace": ["R-20"],  # not shown
        },
    )
    assert entry is not None
    assert (entry.kind, entry.trainee_id, entry.on) == (FeedKind.GRADE, "t-1", date(2026, 3, 20))
    assert entry.details == {
        "position": "engineer",
        "level": "intermediate",
        "grade_score": "95.5",
        "written": "95",
        "practical_mean": "96",
        "capped_by": [],
        "corrects": None,
    }


def test_a_correction_names_the_decision_it_replaces_r23():
    entry = feed_entry(
        "assessment",
        "GradeAssigned",
        {"trainee_id": "t-1", "grade_score": 97.5, "supersedes": "0b9e-uuid"},
    )
    assert entry is not None
    assert (entry.details["corrects"], entry.details["grade_score"]) == ("0b9e-uuid", "97.5")


def test_a_failure_shows_which_exams_failed_and_the_scores_r18():
    entry = feed_entry(
        "assessment",
        "AssessmentFailed",
        {
            "trainee_id": "t-1",
            "failed_exams": ["written"],
            "written": "79",
            "practical_mean": "96",
            "assessed_at": "2026-03-20T09:00:00+00:00",
        },
    )
    assert entry is not None
    assert (entry.kind, entry.on) == (FeedKind.FAILURE, date(2026, 3, 20))
    assert entry.details == {
        "failed_exams": ["written"],
        "written": "79",
        "practical_mean": "96",
        "corrects": None,
    }


def test_a_disposition_shows_outcome_reason_and_who_decided_r18():
    entry = feed_entry(
        "assessment",
        "DispositionDecided",
        {
            "trainee_id": "t-1",
            "outcome": "continue_training",
            "reason": "the branch insists",
            "decided_on": "2026-03-20",
            "decided_by": "mgr",
        },
    )
    assert entry is not None
    assert (entry.kind, entry.on) == (FeedKind.DISPOSITION, date(2026, 3, 20))
    assert entry.details == {
        "outcome": "continue_training",
        "reason": "the branch insists",
        "by": "mgr",
    }


def test_a_concern_and_its_handling_show_text_verification_and_handling_r12b():
    noted = feed_entry(
        "training",
        "TraineeConcernNoted",
        {
            "trainee_id": "t-1",
            "concern_id": "c-1",
            "stage_no": 5,
            "text": "跟不上进度",
            "noted_by": "tr-x",
            "noted_on": "2026-03-10",
        },
    )
    handled = feed_entry(
        "training",
        "ConcernHandled",
        {
            "trainee_id": "t-1",
            "concern_id": "c-1",
            "verified": True,
            "handling": "two extra days on stage 5",
            "handled_by": "mgr",
            "handled_on": "2026-03-11",
        },
    )
    assert noted is not None and handled is not None
    assert (noted.kind, noted.on) == (FeedKind.CONCERN, date(2026, 3, 10))
    assert noted.details == {"concern_id": "c-1", "stage_no": 5, "text": "跟不上进度", "by": "tr-x"}
    assert (handled.kind, handled.on) == (FeedKind.CONCERN_HANDLED, date(2026, 3, 11))
    assert handled.details == {
        "concern_id": "c-1",
        "verified": True,
        "handling": "two extra days on stage 5",
        "by": "mgr",
    }


def test_missing_or_odd_fields_read_as_null_and_the_entry_is_still_made():
    entry = feed_entry(
        "training", "ConcernHandled", {"trainee_id": "t-1", "verified": "yes", "handled_on": "x"}
    )
    assert entry is not None
    assert entry.on is None
    assert entry.details == {"concern_id": None, "verified": None, "handling": None, "by": None}


@pytest.mark.parametrize(
    ("service", "event_type", "data"),
    [
        ("assessment", "TrainerPenaltyAssessed", {"trainee_id": "t-1"}),  # not about a trainee
        ("training", "TrainingDayLogged", {"trainee_id": "t-1"}),
        ("training", "GradeAssigned", {"trainee_id": "t-1"}),  # another producer's type
        ("assessment", "GradeAssigned", {}),  # names no trainee
        ("assessment", "GradeAssigned", {"trainee_id": ""}),
    ],
)
def test_other_events_make_no_entry(service, event_type, data):
    assert feed_entry(service, event_type, data) is None


def test_a_page_cursor_keeps_the_instant_to_the_microsecond():
    from datetime import UTC, datetime

    from services.compensation.feedback import _after, _cursor_of
    from shared.requests import _id_key

    instant = datetime(2026, 3, 20, 9, 30, 0, 123457, tzinfo=UTC)
    cursor = _cursor_of({"occurred_at": instant, "seq": 42})
    assert _after(_id_key(cursor)) == (instant, 42)


@pytest.mark.parametrize(
    "key", ["12", "a.1", "1.b", "999999999999999999.1", "1.1234567890123456789"]
)
def test_a_cursor_this_list_did_not_make_is_a_422_naming_the_cursor(key):
    from services.compensation.feedback import _after
    from shared.problems import Problem

    with pytest.raises(Problem) as refused:
        _after(key)
    assert refused.value.status == 422


def test_an_erased_trainees_entry_keeps_numbers_and_ids_and_its_texts_read_as_erased():
    """Issue 19: the texts people wrote about the trainee are personal; once it is erased they
    read as the marker, where there was one, and everything else of the entry stays."""
    details = {"outcome": "retrain", "reason": "张三 needs more practice", "by": "mgr-1"}
    assert erased_details(details) == {"outcome": "retrain", "reason": "[erased]", "by": "mgr-1"}
    assert erased_details({"concern_id": "c-1", "text": "slow", "handling": None}) == {
        "concern_id": "c-1",
        "text": "[erased]",
        "handling": None,
    }
