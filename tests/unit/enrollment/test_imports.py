"""Branches and staff imported from a spreadsheet, on the in-memory store: every row checked
first (the request's model, the decider on the registry, the same id twice in the file), and a
file with any bad row registers nothing; the problems name the row and the column."""

from __future__ import annotations

import io
import zipfile
from contextlib import asynccontextmanager
from datetime import date

import pytest

from services.enrollment import imports, organisation
from services.enrollment.domain import branch, staff
from services.enrollment.domain.commands import CloseBranch
from services.enrollment.domain.events import registry
from shared.auth import Role
from shared.problems import Problem
from shared.spreadsheets import UnreadableSheet, read_sheet
from tests.support import given_branches, xlsx
from tests.unit.fakes import aggregates, caller, recorded, types

ADMIN = caller("admin-1", Role.ADMIN, key="import-1")
BRANCH_HEADERS = ["branch_id", "kind", "name_zh", "name_en"]
STAFF_HEADERS = ["工号", "姓名", "部门", "角色", "网点编号"]


@asynccontextmanager
async def no_transaction():
    yield None


async def refused(call) -> list[dict]:
    with pytest.raises(Problem) as caught:
        await call
    assert caught.value.status == 422
    return [
        {k: e[k] for k in ("row", "field")} | ({"rule": e["rule"]} if "rule" in e else {})
        for e in caught.value.errors
    ]


async def test_a_good_file_registers_every_branch_in_file_order_under_keys_of_their_own():
    store = aggregates(registry)
    data = xlsx(
        ["Branch ID", "类型", "中文名称", "英文名称"],
        ["bo-east", "办事处", "华东办事处", "East branch office"],
        [None, None, None, None],  # an empty row is skipped
        ["hq", "hq", "总部", "Head office"],
    )
    ids = await imports.import_branches(store, data, ADMIN, no_transaction)
    assert ids == ["bo-east", "hq"]
    [east] = await store.store.read_stream(branch.stream_id("bo-east"))
    assert (east.data["kind"], east.actor.role) == ("branch_office", Role.ADMIN)
    assert east.idempotency_key == "import-1:branch-bo-east"


async def test_a_file_with_any_bad_row_registers_nothing_and_names_each_problem():
    store = aggregates(registry)
    await given_branches(store.store, [{**BRANCH, "branch_id": "dl-north"}])
    data = xlsx(
        BRANCH_HEADERS,
        ["bo-east", "branch_office", "华东办事处", "East branch office"],  # row 2: fine
        ["dl-north", "dealer", "北方经销商", "North dealer"],  # row 3: registered before
        ["bo-east", "branch_office", "again", "again"],  # row 4: twice in the file
        ["bo-x", "franchise", "某", ""],  # row 5: no such kind, no English name
        ["a/b", "dealer", "某", "Some"],  # row 6: not an id
    )
    problems = await refused(imports.import_branches(store, data, ADMIN, no_transaction))
    assert problems == [
        {"row": 3, "field": "branch_id"},
        {"row": 4, "field": "branch_id"},
        {"row": 5, "field": "kind"},
        {"row": 5, "field": "name_en"},
        {"row": 6, "field": "branch_id"},
    ]
    assert await store.store.stream_version(branch.stream_id("bo-east")) == 0


BRANCH = {"kind": "dealer", "name_zh": "北方经销商", "name_en": "North dealer"}


async def test_staff_are_imported_with_chinese_headers_and_words():
    store = aggregates(registry)
    await given_branches(store.store)
    data = xlsx(
        STAFF_HEADERS,
        ["tr-liu", "刘芳", "人力资源部", "培训师、考官", "hq"],
        ["1001", "王磊", "technical", "trainer", "bo-east"],
    )
    assert await imports.import_staff(store, data, ADMIN, no_transaction) == ["tr-liu", "1001"]
    [liu] = await recorded(store, staff.stream_id("tr-liu"))
    assert (liu.department, liu.roles) == ("hr", ["trainer", "examiner"])


async def test_r2_staff_of_an_unknown_or_closed_branch_are_problems_of_their_rows():
    store = aggregates(registry)
    await given_branches(store.store, [{**BRANCH, "branch_id": "hq", "kind": "hq"}])
    await given_branches(store.store, [{**BRANCH, "branch_id": "bo-gone"}])
    closure = CloseBranch("bo-gone", date(2026, 1, 31), "contract ended", date(2026, 3, 2))
    await organisation.close_branch(store, closure, ADMIN)
    data = xlsx(
        STAFF_HEADERS,
        ["tr-1", "甲", "技术部", "培训师", "hq"],
        ["tr-2", "乙", "技术部", "培训师", "nowhere"],
        ["tr-3", "丙", "技术部", "培训师", "bo-gone"],
        ["tr-4", "丁", "销售部", "老板", "hq"],
    )
    problems = await refused(imports.import_staff(store, data, ADMIN, no_transaction))
    assert problems == [
        {"row": 3, "field": "branch_id", "rule": "R-2"},
        {"row": 4, "field": "branch_id", "rule": "R-2"},
        {"row": 5, "field": "department"},
        {"row": 5, "field": "roles"},
    ]
    assert types(await recorded(store, staff.stream_id("tr-1"))) == []


async def test_a_missing_or_unknown_column_is_a_problem_of_the_header_row():
    store = aggregates(registry)
    data = xlsx(["branch_id", "kind", "name_zh", "notes"], ["hq", "hq", "总部", "x"])
    problems = await refused(imports.import_branches(store, data, ADMIN, no_transaction))
    assert problems == [{"row": 1, "field": "name_en"}, {"row": 1, "field": "notes"}]


@pytest.mark.parametrize(
    "data",
    [b"", b"branch_id,kind\nhq,hq\n", b"PK\x03\x04 not really a zip"],
    ids=["empty", "csv", "broken zip"],
)
async def test_a_file_that_is_no_workbook_is_a_problem_of_the_file(data):
    problems = await refused(
        imports.import_branches(aggregates(registry), data, ADMIN, no_transaction)
    )
    assert problems == [{"row": None, "field": "file"}]


def test_a_workbook_that_unpacks_too_far_is_refused_before_it_is_parsed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (65 * 1024 * 1024))
    with pytest.raises(UnreadableSheet, match="unpacks"):
        read_sheet(out.getvalue(), max_rows=10)


def test_a_sheet_of_too_many_rows_is_refused():
    data = xlsx(BRANCH_HEADERS, *([f"b-{i}", "dealer", "x", "x"] for i in range(4)))
    with pytest.raises(UnreadableSheet, match="more than 3 rows"):
        read_sheet(data, max_rows=3)
