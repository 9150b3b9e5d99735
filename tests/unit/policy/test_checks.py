"""The semantic checks of each policy (docs/policy.md): every problem is found, and all of a
document's problems are listed at once, with the field they are in."""

from __future__ import annotations

import copy
from datetime import date

from services.assessment.policy.grading import FINES, GRADING
from services.compensation.policy.pay import FEES, PAY
from services.enrollment.policy.placement import PLACEMENT
from shared.policy_routes import Draft, parse_draft
from shared.policy_store import PolicyRegistration, document_of, registration

GRADING_POLICY = registration("grading", GRADING)


def draft(reg: PolicyRegistration, change) -> Draft:  # type: ignore[no-untyped-def]
    """The shipped version's document changed by ``change``, as a draft."""
    document = copy.deepcopy(document_of(reg.shipped.versions[0]))
    change(document)
    return Draft(version=f"{reg.name}-2027.1", effective_from=date(2027, 1, 1), document=document)


def problems(reg: PolicyRegistration, change) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    _, found = parse_draft(reg, draft(reg, change))
    return [(p["field"], p["message"]) for p in found]


def test_the_shipped_versions_have_no_problem():
    for book in (GRADING, FINES, PLACEMENT, PAY, FEES):
        assert [v.problems() for v in book.versions] == [[]]


def test_r20_grade_bands_out_of_order_missing_and_gapped_are_all_listed():
    def change(d):  # type: ignore[no-untyped-def]
        d["bands"][1]["min_score"] = "98"  # engineer intermediate above engineer senior
        d["bands"] = d["bands"][:-1]  # technician junior gone: 80 to 84 earn nothing
        d["written_pass_mark"] = "101"
        d["eligibility"] = d["eligibility"][:1]

    found = problems(GRADING_POLICY, change)
    assert ("body.document.written_pass_mark", "must be between 0 and 100, not 101") in found
    assert (
        "body.document.bands[1]",
        "min_score 98 must be below the one before (97): highest first",
    ) in found
    assert ("body.document.bands", "technician/junior is missing") in found
    assert (
        "body.document.bands",
        "lowest band 84 leaves passing scores 101+ ungraded",
    ) not in found
    assert ("body.document.eligibility", "technician is missing") in found
    assert len(found) == 4, found


def test_r20_a_lowest_band_above_the_pass_marks_leaves_a_gap():
    found = problems(GRADING_POLICY, lambda d: d["bands"][-1].update(min_score="82"))
    assert found == [("body.document.bands", "lowest band 82 leaves passing scores 80+ ungraded")]


def test_r24_fine_tiers_ordered_positive_and_not_cheaper_for_a_higher_rate():
    def change(d):  # type: ignore[no-untyped-def]
        d["fine_tiers"][0]["fine"] = "100"  # 50 % costs less than 40 %
        d["fine_tiers"][2]["min_rate"] = "0"

    found = problems(registration("fines", FINES), change)
    assert found == [
        ("body.document.fine_tiers[2].min_rate", "must be positive, not 0"),
        ("body.document.fine_tiers", "a higher failure rate must not cost less"),
    ]


def test_r6_placement_bands_start_at_zero_and_name_every_plan_level():
    def change(d):  # type: ignore[no-untyped-def]
        d["bands"][2]["min_average"] = "10"
        d["bands"][1]["plan_level"] = "advanced"

    found = problems(registration("placement", PLACEMENT), change)
    assert found == [
        ("body.document.bands", "advanced is listed twice"),
        ("body.document.bands", "intermediate is missing"),
        ("body.document.bands", "averages below 10 have no band: the lowest starts at 0"),
    ]


def test_pay_shares_sum_to_one_every_row_once_amounts_positive():
    def change(d):  # type: ignore[no-untyped-def]
        d["performance_share"] = "0.40"
        d["rows"][0]["monthly"] = "-1"
        d["rows"].append(copy.deepcopy(d["rows"][1]))
        d["rows"] = [r for r in d["rows"] if r["level"] != "senior" or r["position"] != "engineer"]

    found = problems(registration("pay", PAY), change)
    assert (
        "body.document.performance_share",
        "position_share + performance_share must be 1",
    ) in found
    assert (
        "body.document.rows[hq_full_time/technician/junior].monthly",
        "must be positive, not -1",
    ) in found
    assert ("body.document.rows", "hq_full_time/technician/intermediate is listed twice") in found
    assert ("body.document.rows", "hq_full_time/engineer/senior is missing") in found


def test_r19_the_branch_fee_is_positive():
    found = problems(
        registration("fees", FEES), lambda d: d.update(branch_fee_per_training_day="0")
    )
    assert found == [("body.document.branch_fee_per_training_day", "must be positive, not 0")]


def test_fields_that_do_not_parse_are_all_listed_by_their_path():
    def change(d):  # type: ignore[no-untyped-def]
        d["written_pass_mark"] = "lots"
        d["bands"][0]["level"] = "grand"
        d["surprise"] = 1

    _, found = parse_draft(GRADING_POLICY, draft(GRADING_POLICY, change))
    assert {p["field"] for p in found} == {
        "body.document.written_pass_mark",
        "body.document.bands.0.level",
        "body.document.surprise",
    }


def test_r20_a_lower_grade_listed_above_a_higher_one_is_named():
    def change(d):  # type: ignore[no-untyped-def]
        d["bands"][2]["position"], d["bands"][3]["position"] = "technician", "engineer"

    found = problems(GRADING_POLICY, change)
    assert ("body.document.bands", "a lower grade's band is above a higher grade's") in found
