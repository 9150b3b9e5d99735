"""Enrolling trainees from a spreadsheet over HTTP against real PostgreSQL (POST
/imports/trainees, the workbench's "enrol many at once"): every row is checked as its own POST
/trainees would be, and the file is enrolled whole in one transaction, or nothing is stored and
the 422 lists each problem by row and column; a branch clerk enrols into its own branch only
(R-2); a repeat of the upload replays its first answer."""

from __future__ import annotations

import pytest

from services.enrollment.schemas import EnrollRequest
from shared.auth import Role
from tests.integration.enrollment.test_imports_http import XLSX, streams, xlsx
from tests.support import long_secret, ok, register_branches, running

# The sheet's English headers are the fields of a POST /trainees body, in their order.
HEADERS = list(EnrollRequest.model_fields)
ZH_HEADERS = [
    "学员编号",
    "姓名",
    "类别",
    "网点编号",
    "学历",
    "工作年限",
    "证书",
    "产品系列",
    "报名日期",
]


@pytest.fixture
async def svc(settings):
    from services.enrollment.app import create_app

    settings = long_secret(settings)
    async with running(create_app(settings), settings, "enrollment") as service:
        await register_branches(service)
        yield service


def clerk(svc, branch="bo-east", **extra):
    headers = svc.as_(f"clerk-{branch}", Role.BRANCH_CLERK, branch_id=branch)
    return {**headers, "Content-Type": XLSX, **extra}


async def upload(svc, data, headers):
    return await svc.client.post("/imports/trainees", content=data, headers=headers)


async def test_a_clerk_enrols_a_whole_file_in_chinese_and_its_repeat_replays(svc):
    data = xlsx(
        ZH_HEADERS,
        ["t-x1", "赵敏", "委培", "bo-east", "高中", 4, "电工证、焊工证", "X1, X2", "2026-02-20"],
        ["", "陈刚", "branch_commissioned", "bo-east", "本科", 2.5, None, None, "2026-02-21"],
    )
    headers = clerk(svc, **{"Idempotency-Key": "sheet-1"})
    first = await upload(svc, data, headers)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["imported"] == 2 and answer["ids"][0] == "t-x1"
    assert [r["row"] for r in answer["rows"]] == [2, 3]
    generated = answer["ids"][1]
    assert generated.startswith("t-")

    again = await upload(svc, data, headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == answer
    assert sorted(await streams(svc, "trainee-")) == sorted(f"trainee-{i}" for i in answer["ids"])

    profile = await ok(svc.client.get("/trainees/t-x1", headers=clerk(svc)))
    assert profile["category"] == "branch_commissioned"
    assert profile["education"] == "high_school"
    assert profile["certificates"] == ["电工证", "焊工证"]
    assert profile["product_series"] == ["X1", "X2"]
    second = await ok(svc.client.get(f"/trainees/{generated}", headers=clerk(svc)))
    assert (second["name"], second["experience_years"]) == ("陈刚", "2.5")


async def test_one_bad_row_stores_nothing_and_every_problem_is_listed_by_row(svc):
    data = xlsx(
        HEADERS,
        [
            "t-ok",
            "赵敏",
            "branch_commissioned",
            "bo-east",
            "high_school",
            4,
            "",
            "X1",
            "2026-02-20",
        ],
        ["t-r1", "王强", "hq_full_time", "bo-east", "high_school", 4, "", "", "2026-02-20"],
        ["t-ok", "李娜", "branch_commissioned", "bo-east", "high_school", 4, "", "", "2026-02-20"],
        ["t-r3", "", "branch_commissioned", "bo-east", "phd", -1, "", "", "2999-01-01"],
    )
    refused = await upload(svc, data, clerk(svc))
    assert refused.status_code == 422, refused.text
    found = [(e["row"], e["field"], e.get("rule")) for e in refused.json()["errors"]]
    assert found == [
        (3, "category", "R-1"),  # hq_full_time trainees belong to the HQ
        (4, "trainee_id", None),  # twice in the file
        (5, "education", None),
        (5, "experience_years", None),
        (5, "name", None),
    ]
    assert await streams(svc, "trainee-") == []


async def test_a_date_in_the_future_is_the_row_s_problem_r3(svc):
    data = xlsx(
        HEADERS,
        ["t-f", "赵敏", "branch_commissioned", "bo-east", "high_school", 4, "", "", "2999-01-01"],
    )
    refused = await upload(svc, data, clerk(svc))
    errors = refused.json()["errors"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [(2, "enrolled_on", "R-3")]
    assert await streams(svc, "trainee-") == []


async def test_a_clerk_may_not_enrol_into_another_branch_r2(svc):
    data = xlsx(
        HEADERS,
        ["t-e", "赵敏", "branch_commissioned", "bo-east", "high_school", 4, "", "", "2026-02-20"],
        ["t-w", "刘洋", "branch_commissioned", "bo-west", "high_school", 4, "", "", "2026-02-20"],
        ["t-n", "周杰", "branch_commissioned", "nowhere", "high_school", 4, "", "", "2026-02-20"],
    )
    refused = await upload(svc, data, clerk(svc))
    errors = refused.json()["errors"]
    # Both other branches alike: whether "nowhere" is registered is not the clerk's to learn.
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [
        (3, "branch_id", "R-2"),
        (4, "branch_id", "R-2"),
    ]
    assert "bo-east" in errors[0]["message"]
    assert await streams(svc, "trainee-") == []

    manager = {**svc.as_("mgr", Role.AFTER_SALES_MANAGER), "Content-Type": XLSX}
    refused = await upload(svc, data, manager)
    errors = refused.json()["errors"]
    assert [(e["row"], e["field"], e["rule"]) for e in errors] == [(4, "branch_id", "R-2")]


async def test_a_missing_column_is_named_and_optional_ones_may_be_left_out(svc):
    required_only = [
        h for h in HEADERS if h not in ("trainee_id", "certificates", "product_series")
    ]
    good = xlsx(
        required_only, ["赵敏", "branch_commissioned", "bo-east", "high_school", 4, "2026-02-20"]
    )
    created = await ok(upload(svc, good, clerk(svc)), 201)
    assert created["imported"] == 1
    bad = xlsx(["name", "branch_id"], ["赵敏", "bo-east"])
    refused = await upload(svc, bad, clerk(svc))
    assert refused.status_code == 422
    missing = {e["field"] for e in refused.json()["errors"]}
    assert missing == {"category", "education", "experience_years", "enrolled_on"}


async def test_only_clerks_and_managers_import_trainees(svc):
    for role in (Role.ADMIN, Role.TRAINER, Role.MANAGEMENT):
        headers = {**svc.as_("someone", role), "Content-Type": XLSX}
        assert (await upload(svc, b"x", headers)).status_code == 403
