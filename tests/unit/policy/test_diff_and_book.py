"""The readable diff of two versions, the book's aliases for split policies, and the publishing
decider (docs/policy.md)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from services.assessment.policy.grading import FINES, GRADING
from services.compensation.policy.pay import FEES, PAY
from shared.decider import Conflict, InvalidCommand
from shared.policy import UnknownPolicyVersion
from shared.policy_diff import diff
from shared.policy_store import POLICY_STREAM, PolicyPublished, PublishPolicy, document_of

SHIPPED = document_of(GRADING.versions[0])


def test_rows_are_named_by_their_key_not_their_position():
    after = copy.deepcopy(SHIPPED)
    after["bands"][0]["min_score"] = "98"
    after["eligibility"][1]["min_series"] = 3
    after["practical_spread_review"] = "20"
    assert diff(SHIPPED, after) == [
        "practical_spread_review: 15 → 20",
        "bands[engineer/senior].min_score: 97 → 98",
        "eligibility[technician].min_series: 2 → 3",
    ]


def test_added_removed_and_reordered_rows():
    pay = document_of(PAY.versions[0])
    after = copy.deepcopy(pay)
    removed = after["rows"].pop(0)
    assert diff(pay, after) == [
        f"rows[{removed['category']}/{removed['position']}/{removed['level']}]: removed"
    ]
    assert diff(after, pay)[0].startswith("rows[hq_full_time/technician/junior]: added {rule: R-25")
    swapped = copy.deepcopy(SHIPPED)
    swapped["bands"][0], swapped["bands"][1] = swapped["bands"][1], swapped["bands"][0]
    assert diff(SHIPPED, swapped) == [
        "bands: order engineer/senior, engineer/intermediate, engineer/junior, technician/senior, "
        "technician/intermediate, technician/junior → engineer/intermediate, engineer/senior, "
        "engineer/junior, technician/senior, technician/intermediate, technician/junior"
    ]


def test_plain_lists_and_unkeyed_rows_compare_whole_or_by_index():
    after = copy.deepcopy(SHIPPED)
    after["practical_departments"] = after["practical_departments"][:4]
    assert diff(SHIPPED, after) == [
        "practical_departments: [technical, process_engineering, quality, after_sales, production]"
        " → [technical, process_engineering, quality, after_sales]"
    ]
    fines = document_of(FINES.versions[0])
    higher = copy.deepcopy(fines)
    higher["fine_tiers"][0]["fine"] = "250"
    assert diff(fines, higher) == ["fine_tiers[0].fine: 200 → 250"]
    assert diff({}, fines) == [
        "fine_tiers: added [{min_rate: 0.5, fine: 200}, {min_rate: 0.4, fine: 150}, "
        "{min_rate: 0.3, fine: 50}]"
    ]


def test_split_policies_resolve_the_names_decisions_recorded_before_the_split():
    assert FINES.named("grading-2026.1").version == "fines-2026.1"  # R-24 penalties
    assert FEES.named("pay-2026.1").version == "fees-2026.1"  # R-19 branch fees
    assert "grading-2026.1" in FINES and "grading-2026.2" not in FINES
    with pytest.raises(UnknownPolicyVersion):
        FINES.named("grading-2026.2")


def test_a_later_version_is_in_force_from_its_date_only():
    later = GRADING.versions[0].model_copy(
        update={"version": "grading-2027.1", "effective_from": date(2027, 1, 1)}
    )
    book = GRADING.with_versions([later])
    assert book.in_force(date(2026, 12, 31)).version == "grading-2026.1"
    assert book.in_force(date(2027, 1, 1)).version == "grading-2027.1"
    assert book.named("grading-2026.1") is GRADING.versions[0]  # audits keep theirs
    assert GRADING.in_force(date(2027, 1, 1)).version == "grading-2026.1"  # books are values


def publish(version: str, effective_from: date, today: date, *published: PolicyPublished):  # type: ignore[no-untyped-def]
    new = GRADING.versions[0].model_copy(
        update={"version": version, "effective_from": effective_from}
    )
    state = POLICY_STREAM.fold(list(published))
    return POLICY_STREAM.decide(PublishPolicy("grading", new, "vp-1", today), state)


def test_publishing_records_the_document_and_who_published_it():
    (event,) = publish("grading-2027.1", date(2026, 12, 6), date(2026, 12, 6))
    assert isinstance(event, PolicyPublished)
    assert (event.name, event.version, event.published_by) == ("grading", "grading-2027.1", "vp-1")
    assert event.document == SHIPPED


def test_a_version_cannot_start_before_today_nor_on_another_versions_day():
    with pytest.raises(InvalidCommand, match="before today"):
        publish("grading-2027.1", date(2026, 12, 5), date(2026, 12, 6))
    (first,) = publish("grading-2027.1", date(2027, 1, 1), date(2026, 12, 6))
    with pytest.raises(InvalidCommand, match=r"takes effect on 2027-01-01 already"):
        publish("grading-2027.2", date(2027, 1, 1), date(2026, 12, 6), first)
    with pytest.raises(Conflict, match=r"already has a version grading-2027\.1"):
        publish("grading-2027.1", date(2027, 2, 1), date(2026, 12, 6), first)
