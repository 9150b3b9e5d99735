"""Importing branches and staff from a spreadsheet over HTTP against real PostgreSQL: the whole
file is registered in one transaction, or nothing when any row is bad (the 422 lists each
problem by row and column); a repeat of the upload replays its first answer."""

from __future__ import annotations

from shared.auth import Role
from tests.support import ok, register_branches, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def admin(svc, **extra):
    return {**svc.as_("admin-1", Role.ADMIN), "Content-Type": XLSX, **extra}


async def upload(svc, path, data, **headers):
    return await svc.client.post(path, content=data, headers=admin(svc, **headers))


async def streams(svc, prefix):
    rows = await svc.pool.fetch(
        "SELECT stream_id FROM events WHERE stream_id LIKE $1 ORDER BY position", prefix + "%"
    )
    return [r["stream_id"] for r in rows]


async def test_a_branch_file_is_registered_whole_and_its_repeat_replays(svc):
    data = xlsx(
        ["编号", "类型", "中文名称", "英文名称"],
        ["hq", "总部", "总部", "Head office"],
        ["bo-east", "办事处", "华东办事处", "East branch office"],
    )
    first = await upload(svc, "/imports/branches", data, **{"Idempotency-Key": "import-1"})
    assert first.status_code == 201, first.text
    assert first.json() == {"imported": 2, "ids": ["hq", "bo-east"]}
    again = await upload(svc, "/imports/branches", data, **{"Idempotency-Key": "import-1"})
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert await streams(svc, "branch-") == ["branch-hq", "branch-bo-east"]
    shown = await ok(svc.client.get("/branches/bo-east", headers=admin(svc)))
    assert (shown["kind"], shown["name_zh"]) == ("branch_office", "华东办事处")


async def test_a_file_with_one_bad_row_changes_nothing(svc):
    await register_branches(
        svc, [{"branch_id": "hq", "kind": "hq", "name_zh": "总部", "name_en": "HQ"}]
    )
    data = xlsx(
        ["branch_id", "kind", "name_zh", "name_en"],
        ["bo-east", "branch_office", "华东办事处", "East branch office"],
        ["hq", "hq", "总部", "Head office"],
    )
    refused = await upload(svc, "/imports/branches", data)
    assert refused.status_code == 422, refused.text
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [(3, "branch_id")]
    assert await streams(svc, "branch-") == ["branch-hq"]


async def test_staff_are_imported_at_registered_branches_only(svc):
    await register_branches(svc)
    headers = ["staff_id", "name", "department", "roles", "branch_id"]
    bad = xlsx(
        headers,
        ["tr-1", "刘芳", "hr", "trainer", "hq"],
        ["tr-2", "王磊", "hr", "trainer", "nowhere"],
    )
    refused = await upload(svc, "/imports/staff", bad)
    assert [(e["row"], e["field"], e.get("rule")) for e in refused.json()["errors"]] == [
        (3, "branch_id", "R-2")
    ]
    assert await streams(svc, "staff-") == []
    good = xlsx(headers, ["tr-1", "刘芳", "hr", "trainer, examiner", "hq"])
    created = await ok(upload(svc, "/imports/staff", good), 201)
    assert created == {"imported": 1, "ids": ["tr-1"]}
    member = await ok(svc.client.get("/staff/tr-1", headers=admin(svc)))
    assert member["roles"] == ["trainer", "examiner"]


async def test_only_the_admin_imports_and_a_non_workbook_is_422(svc):
    clerk = svc.as_("clerk", Role.BRANCH_CLERK, branch_id="hq")
    refused = await svc.client.post("/imports/branches", content=b"x", headers=clerk)
    assert refused.status_code == 403
    garbage = await upload(svc, "/imports/staff", b"not a workbook")
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "file"
