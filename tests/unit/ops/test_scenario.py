"""The demo's scenario (ops/scenario.py): deterministic, realistic, and holding every case the
demo must show, whatever its size."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from ops import scenario as sc

ANCHOR = date(2026, 3, 20)


def test_the_same_seed_describes_the_same_round_on_any_exam_day():
    first, again = sc.build(7, 60, ANCHOR), sc.build(7, 60, ANCHOR)
    assert first == again
    later = sc.build(7, 60, date(2026, 7, 1))
    assert [t.trainee_id for t in later.trainees] == [t.trainee_id for t in first.trainees]
    assert [(t.name, t.written, t.practical, t.grade) for t in later.trainees] == [
        (t.name, t.written, t.practical, t.grade) for t in first.trainees
    ]
    assert sc.build(8, 60, ANCHOR).trainees != first.trainees


@pytest.mark.parametrize("size", [5, 12, 50, 200])
def test_every_size_has_the_five_branches_and_every_case_of_the_issue(size):
    s = sc.build(7, size, ANCHOR)
    assert len(s.trainees) == size
    assert {t.branch_id for t in s.trainees} == set(sc.BRANCHES)
    for t in s.trainees:  # HQ staff at HQ, commissioned staff at offices and dealers
        assert (t.category == "branch_commissioned") == (t.branch_id != "hq")
        assert t.enrolled_on < ANCHOR
        assert all(d.on < ANCHOR for d in t.steps if isinstance(d, sc.TrainingDay))
        topics = {stage.topic for stage in t.stages}
        assert {
            "company_processes",
            "department_responsibilities",
            "travel_policy",
            "appraisal_rules",
            "product",
        } <= topics
    described = sc.describe(s)
    assert described["dissenting_days"] and described["disputed_sign_offs"]
    assert described["send_backs"] and described["failed"]
    series_fines = [f for f in s.expected_fines() if f.content is None]
    assert [f.amount >= 150 for f in series_fines] == [True]  # one fined trainer
    (content_fine,) = s.content_fines()  # and the session on a training content
    assert (content_fine.trainer_id, content_fine.content, content_fine.amount) == (
        "tr-chen-gang",
        sc.CONTENT,
        Decimal(200),
    )
    assert content_fine.product_series is None and content_fine.failed_ids
    assert s.expected_fees(), "a dealer keeps a failed trainee training (R-19)"
    (corrected,) = [d for d in s.disputes if d.outcome == "corrected"]
    assert corrected.before != s.trainee(corrected.trainee_id).grade
    concerns = s.concerns()  # R-12b: one per branch office and dealer, so each branch hears
    assert {s.trainee(c).branch_id for c in concerns} == set(sc.BRANCHES) - {"hq"}
    for concern in concerns.values():
        t = s.trainee(concern.trainee_id)
        assert t.category == "branch_commissioned"
        assert (concern.stage_no, concern.trainer_id) == (t.main_stage, t.main_trainer)


def test_the_full_demo_is_realistic():
    s = sc.build(7, 200, ANCHOR)
    assert sc.describe(s)["by_category"] == {
        "hq_full_time": 40,
        "production_reserve": 20,
        "branch_commissioned": 140,
    }
    assert 0.05 <= len(s.failed) / 200 <= 0.2
    assert len({stage.trainer_id for t in s.trainees for stage in t.stages}) == 8
    assert {t.main_series for t in s.trainees} == set(sc.SERIES)
    assert sum(len(v) for v in s.expected_board().values()) > 150


def test_a_send_back_re_signs_the_earlier_stage_before_training_goes_on():
    s = sc.build(7, 200, ANCHOR)
    t = next(t for t in s.trainees if any(isinstance(x, sc.SendBack) for x in t.steps))
    back = next(i for i, x in enumerate(t.steps) if isinstance(x, sc.SendBack))
    returned = t.steps[back]
    assert isinstance(returned, sc.SendBack) and returned.to_stage < returned.from_stage
    after = t.steps[back + 1 :]
    re_signed = next(
        i for i, x in enumerate(after) if isinstance(x, sc.SignOff) and x.stage == returned.to_stage
    )
    assert all(x.stage == returned.to_stage for x in after[:re_signed])
    dates = [x.on for x in t.steps if isinstance(x, sc.TrainingDay)]
    assert dates == sorted(dates)


def test_grades_follow_the_worked_examples():
    base = sc.build(7, 5, ANCHOR).trainees[0]
    a = replace(
        base,
        education="high_school",
        experience_years=Decimal(4),
        enrolled_series=("X1", "X2", "K3"),
        written=Decimal(95),
        practical=tuple(map(Decimal, (96, 95, 97, 98, 94))),
    )
    assert sc.grade(a) == sc.Grade(True, "engineer", "intermediate", Decimal("95.5"))  # A
    b = replace(a, enrolled_series=("X1",), stages=a.stages[:4] + a.stages[4:5])
    assert len(b.mastered) == 2
    assert sc.grade(b).position == "technician" and sc.grade(b).level == "senior"  # B
    c = replace(a, written=Decimal(79))
    assert sc.grade(c).passed is False  # C
    assert sc.fine_for(10, 4) == Decimal(150)  # E


def test_the_content_session_re_examines_the_failed_who_stay_owed_retraining():
    """R-24: the re-sitters failed before (with their scores they fail again); each fined
    trainer keeps its failed, the series trainer's and the content trainer's alike."""
    s = sc.build(7, 200, ANCHOR)
    assert s.resitters and all(not sc.grade(t).passed for t in s.resitters)
    assert all(t.disposition in ("reserve", "workshop") for t in s.resitters)
    owed = s.expected_retraining()
    (series_fine,) = [f for f in s.expected_fines() if f.content is None]
    assert owed[(series_fine.trainer_id, series_fine.session_id)] == sc.sorted_ids(
        [t for t in s.failed if (t.main_series, t.main_trainer) == s.fined_group]
    )
    assert owed[("tr-chen-gang", f"{s.prefix}-{sc.CONTENT}")] == sc.sorted_ids(s.resitters)
