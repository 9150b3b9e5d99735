"""Names beside ids (shared.directory): a branch's Chinese and English names, a person's name,
and the id wherever a name has not arrived yet (never an error)."""

from __future__ import annotations

from datetime import date

from shared.directory import (
    BranchNames,
    branch_labels,
    name_or_id,
    unknown_branch,
    with_branch_names,
    with_names,
)

EAST = BranchNames("bo-east", "华东办事处", "East China Office", "closed", date(2026, 4, 30))
NAMES = {"bo-east": EAST}


def test_a_known_branch_reads_by_its_names_and_an_unknown_one_by_its_id():
    assert branch_labels("bo-east", NAMES) == {
        "branch_name_zh": "华东办事处",
        "branch_name_en": "East China Office",
    }
    assert branch_labels("bo-new", NAMES) == {
        "branch_name_zh": "bo-new",
        "branch_name_en": "bo-new",
    }
    assert branch_labels(None, NAMES) == {"branch_name_zh": None, "branch_name_en": None}


def test_rows_keep_every_field_and_gain_the_names_beside_the_id():
    rows = [{"branch_id": "bo-east", "count": 2}, {"branch_id": "hq", "count": 1}]
    assert with_branch_names(rows, NAMES) == [
        {
            "branch_id": "bo-east",
            "count": 2,
            "branch_name_zh": "华东办事处",
            "branch_name_en": "East China Office",
        },
        {"branch_id": "hq", "count": 1, "branch_name_zh": "hq", "branch_name_en": "hq"},
    ]
    assert rows[0] == {"branch_id": "bo-east", "count": 2}  # the input is not changed


def test_a_person_reads_by_name_once_known_else_by_id():
    names = {"tr-1": "孙老师"}
    assert name_or_id("tr-1", names) == "孙老师"
    assert name_or_id("tr-2", names) == "tr-2"
    assert name_or_id(None, names) is None
    rows = [{"trainer_id": "tr-1"}, {"trainer_id": "tr-2"}]
    assert with_names(rows, names, "trainer_id", "trainer_name") == [
        {"trainer_id": "tr-1", "trainer_name": "孙老师"},
        {"trainer_id": "tr-2", "trainer_name": "tr-2"},
    ]


def test_an_unknown_branch_is_a_422_naming_the_field_and_saying_when_it_becomes_known():
    problem = unknown_branch("bo-new")
    body = problem.body()
    assert problem.status == 422
    assert body["errors"] == [
        {
            "field": "query.branch_id",
            "message": body["errors"][0]["message"],
            "type": "unknown_branch",
        }
    ]
    assert "bo-new" in body["detail"] and "arrived" in body["errors"][0]["message"]
