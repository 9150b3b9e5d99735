"""The branch's feed (R-2, R-12b): every result and suggestion about its trainees, newest first,
named, paginated; a clerk reads its own branch's only. Upstream events are fed through the
consumer handler and the inbox (as the bus delivers them); the feed is a projection of the inbox,
so each read waits until it has caught up."""

from __future__ import annotations

from services.compensation.consumers import handle
from services.compensation.feed import BRANCH_FEED
from shared.auth import Role
from shared.projections import rebuild
from tests.integration.compensation.feed_events import (
    at,
    concern,
    disposed,
    failed,
    graded,
    handled,
)
from tests.integration.compensation.upstream import clerk, deliver, enrolled, management
from tests.organisation import standard_names, teach_branches
from tests.support import until


async def feed(svc, branch="dl-north", headers=None, **params):
    headers = headers or management(svc)
    return await svc.client.get(f"/branches/{branch}/feedback", params=params, headers=headers)


async def feed_of(svc, count, branch="dl-north"):
    """The feed once the projection holds ``count`` entries for the branch, each trainee's
    enrolment applied (its category known)."""

    async def caught_up():
        items = (await feed(svc, branch, limit=500)).json()["items"]
        settled = len(items) == count and all(i["category"] for i in items)
        return items if settled else None

    return await until(caught_up)


async def a_branch_with_results(svc):
    await teach_branches(svc.pool, handle, "dl-north", "dl-south")
    await deliver(
        svc,
        graded("t-late", at(2), "dl-north"),  # before its enrolment arrived: the envelope's branch
        enrolled("t-f", "branch_commissioned", "dl-north", name="赵敏"),
        concern("t-f", at(10)),
        handled("t-f", at(11)),
        failed("t-f", at(20)),
        disposed("t-f", at(20, 15)),
        enrolled("t-s", "branch_commissioned", "dl-south", name="钱多"),
        graded("t-s", at(21), "dl-south"),
        enrolled("t-late", "hq_full_time", "dl-north", name="孙立"),
    )


async def test_the_feed_shows_the_branchs_results_and_suggestions_newest_first_r2_r12b(svc):
    await a_branch_with_results(svc)
    items = await feed_of(svc, 5)
    assert [(i["kind"], i["trainee_id"], i["occurred_on"]) for i in items] == [
        ("disposition", "t-f", "2026-03-20"),
        ("failure", "t-f", "2026-03-20"),
        ("concern_handled", "t-f", "2026-03-11"),
        ("concern", "t-f", "2026-03-10"),
        ("grade", "t-late", "2026-03-02"),  # every category of the branch's trainees
    ]
    disposition, failure, handling, noted, grade = items
    assert {i["trainee_name"] for i in items[:4]} == {"赵敏"} and grade["trainee_name"] == "孙立"
    assert (disposition["branch_name_zh"], disposition["branch_name_en"]) == standard_names(
        "dl-north"
    )
    assert (disposition["outcome"], disposition["reason"], disposition["by"]) == (
        "continue_training",
        "the branch insists on more training",
        "mgr",
    )
    assert (failure["failed_exams"], failure["written"], failure["practical_mean"]) == (
        ["written"],
        "79",
        "96",
    )
    assert (noted["text"], noted["stage_no"], noted["by"]) == ("跟不上产品系列 X 的进度", 5, "tr-x")
    assert (handling["verified"], handling["handling"]) == (True, "加训两天")
    assert (grade["position"], grade["level"], grade["grade_score"], grade["category"]) == (
        "technician",
        "junior",
        "86.5",
        "hq_full_time",
    )
    assert disposition["category"] == "branch_commissioned"


async def test_pages_follow_the_cursor_and_a_foreign_cursor_is_422(svc):
    await a_branch_with_results(svc)
    everything = await feed_of(svc, 5)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = (await feed(svc, headers=clerk(svc), **params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["event_id"] for i in seen] == [i["event_id"] for i in everything]
    bad = await feed(svc, cursor="bm90LWEtY3Vyc29y")  # "not-a-cursor"
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


async def test_a_clerk_reads_its_own_branch_only_and_an_unknown_branch_is_404_r2(svc):
    await a_branch_with_results(svc)
    await feed_of(svc, 1, "dl-south")
    own = await feed(svc, "dl-south", headers=clerk(svc, "dl-south"))
    assert [i["trainee_id"] for i in own.json()["items"]] == ["t-s"]
    prying = await feed(svc, "dl-north", headers=clerk(svc, "dl-south"))
    assert prying.status_code == 403
    manager = svc.as_("mgr", Role.AFTER_SALES_MANAGER)
    assert (await feed(svc, "dl-north", headers=manager)).status_code == 200
    for role in (Role.PAYROLL, Role.TRAINER, Role.TRAINEE):
        assert (await feed(svc, headers=svc.as_("x", role))).status_code == 403
    assert (await feed(svc, "nowhere")).status_code == 404
    assert (await svc.client.get("/branches/dl-north/feedback")).status_code == 401


async def test_a_rebuild_from_the_inbox_gives_the_same_feed(svc):
    """The feed is a projection of the inbox: rebuilt (``gradeline rebuild compensation
    branch_feed``, or at first deployment over an inbox consumed before it), it is the same."""
    await a_branch_with_results(svc)
    before = await feed_of(svc, 5)
    assert await rebuild(svc.pool, "compensation", BRANCH_FEED) > 0
    after = (await feed(svc, limit=500)).json()["items"]
    assert [(i["event_id"], i["kind"], i["category"]) for i in after] == [
        (i["event_id"], i["kind"], i["category"]) for i in before
    ]
