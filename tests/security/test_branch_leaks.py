"""R-2: a branch sees only its own trainees. Lists and boards, read by the clerk of the own
branch, never show a row of the other branch: not on any page, not through a cursor made up from
the other branch's keys, not through a filter. Each test first waits until management sees the
other branch's rows, so an empty answer cannot pass for a private one."""

from __future__ import annotations

import asyncio
import io

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from shared.requests import encode_cursor
from tests.integration.compensation import upstream

from .world import OTHER_BRANCH, OWN_BRANCH, TRAINEES

pytestmark = pytest.mark.asyncio(loop_scope="module")
OTHER_TRAINEE = TRAINEES[OTHER_BRANCH]


async def shown_to_management(client, url, world, listed="rows", timeout=10.0):
    """GET ``url`` as management until the other branch is among its ``listed`` (projections
    follow the events by a moment), so that a clerk not seeing it there is the filter at work,
    not the lag; that answer."""
    headers = world.headers(Role.MANAGEMENT)
    async with asyncio.timeout(timeout):
        while True:
            answer = await client.get(url, headers=headers)
            assert answer.status_code == 200, answer.text
            if OTHER_BRANCH in branches(answer.json()[listed]):
                return answer.json()
            await asyncio.sleep(0.05)


def branches(rows):
    return {row["branch_id"] for row in rows}


async def test_trainee_list_pages_and_cursors_stay_in_the_clerks_branch(world):
    client = world.services["enrollment"].client
    everyone = await shown_to_management(client, "/trainees?limit=500", world, "items")
    assert OWN_BRANCH in branches(everyone["items"])
    clerk = world.headers(Role.BRANCH_CLERK)
    seen, cursor = [], None
    for _ in range(20):  # one trainee a page, following next_cursor to the end
        url = "/trainees?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=clerk)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen and branches(seen) == {OWN_BRANCH}
    # A cursor forged from the other branch's keys starts a page there, but still filters.
    for key in ("a", OTHER_TRAINEE, "t-"):
        page = await client.get(f"/trainees?cursor={encode_cursor(key)}", headers=clerk)
        assert page.status_code == 200, page.text
        assert branches(page.json()["items"]) <= {OWN_BRANCH}
    for key in ("", "\uffff"):  # no trainee id looks like these: not a cursor of this list
        page = await client.get(f"/trainees?cursor={encode_cursor(key)}", headers=clerk)
        assert page.status_code == 422, page.text
    for category in ("branch_commissioned", "production_reserve", "hq_full_time"):
        page = await client.get(f"/trainees?category={category}", headers=clerk)
        assert branches(page.json()["items"]) <= {OWN_BRANCH}
    asked_for_other = await client.get(f"/trainees?branch_id={OTHER_BRANCH}", headers=clerk)
    assert asked_for_other.status_code == 403


async def test_grade_board_shows_the_clerk_its_own_branch_only_now_and_as_of(world):
    client = world.services["assessment"].client
    await shown_to_management(client, "/board/grades", world)
    clerk = world.headers(Role.BRANCH_CLERK)
    for query in ("", f"?branch_id={OWN_BRANCH}", "?as_of=2999-01-01T00:00:00Z"):
        board = await client.get("/board/grades" + query, headers=clerk)
        assert board.status_code == 200, board.text
        rows = board.json()["rows"]
        assert branches(rows) == {OWN_BRANCH}, query
        assert OTHER_TRAINEE not in {t for row in rows for t in row["trainee_ids"]}
    other = await client.get(f"/board/grades?branch_id={OTHER_BRANCH}", headers=clerk)
    assert other.status_code == 403


async def test_training_progress_board_shows_the_clerk_its_own_branch_only(world):
    client = world.services["training"].client
    await shown_to_management(client, "/board/progress", world)
    clerk = world.headers(Role.BRANCH_CLERK)
    board = (await client.get("/board/progress", headers=clerk)).json()
    assert board["branch_id"] == OWN_BRANCH
    assert branches(board["rows"]) <= {OWN_BRANCH}
    # The other branch's trainer trains nobody here: its tallies stay out of the clerk's view.
    assert "tr-" + OTHER_BRANCH not in {t["trainer_id"] for t in board["trainers"]}
    other = await client.get(f"/board/progress?branch_id={OTHER_BRANCH}", headers=clerk)
    assert other.status_code == 403


async def test_branch_fees_show_the_clerk_its_own_branch_only(world):
    """R-19: the other branch owes fees for its failed trainee's training days; the own clerk
    sees none of them, in JSON or in either export."""
    pay = world.services["compensation"]
    delivered = await upstream.deliver(
        pay,
        upstream.disposed(OTHER_TRAINEE, "continue_training", "2026-03-01"),
        upstream.day_logged(OTHER_TRAINEE, "2026-03-05"),
    )
    assert all(delivered)
    payroll = world.headers(Role.PAYROLL)
    run = await pay.client.post("/payroll/2026-03/run", json={}, headers=payroll)
    assert run.status_code == 200, run.text
    fees = await shown_to_management(pay.client, "/branch-fees/2026-03", world)
    assert fees["rows"]
    clerk = world.headers(Role.BRANCH_CLERK)
    own = await pay.client.get("/branch-fees/2026-03", headers=clerk)
    assert own.status_code == 200 and branches(own.json()["rows"]) <= {OWN_BRANCH}
    csv = await pay.client.get("/branch-fees/2026-03/export.csv", headers=clerk)
    assert csv.status_code == 200 and OTHER_BRANCH not in csv.text and OTHER_TRAINEE not in csv.text
    xlsx = await pay.client.get("/branch-fees/2026-03/export.xlsx", headers=clerk)
    assert xlsx.status_code == 200
    cells = {str(c) for row in load_workbook(io.BytesIO(xlsx.content)).active.values for c in row}
    assert OTHER_BRANCH not in cells and OTHER_TRAINEE not in cells
    other = await pay.client.get(f"/branch-fees/2026-03?branch_id={OTHER_BRANCH}", headers=clerk)
    assert other.status_code == 403


# A token may hold several roles; each grants only its own rights (docs/http.md).
CLERK_WHO_TRAINS = (Role.BRANCH_CLERK, Role.TRAINER)
TRAINEE_WHO_EXAMINES = (Role.TRAINEE, Role.EXAMINER)


async def test_a_clerk_who_also_trains_reads_no_grade_or_dispute_of_another_branch(world):
    """R-2: the trainer role reads no grade and no dispute, so it adds nothing to what the
    clerk of the own branch may read there."""
    client = world.services["assessment"].client
    both = world.headers(CLERK_WHO_TRAINS)
    own_grade = await client.get(f"/trainees/{TRAINEES[OWN_BRANCH]}/grade", headers=both)
    assert own_grade.status_code == 200, own_grade.text
    grade = await client.get(f"/trainees/{OTHER_TRAINEE}/grade", headers=both)
    assert grade.status_code == 404, grade.text
    dispute = await client.get(f"/disputes/{world.disputes[OTHER_BRANCH]}", headers=both)
    assert dispute.status_code == 404, dispute.text


async def test_a_trainee_who_also_examines_disputes_no_one_elses_grade(world):
    """R-23 with R-2: a trainee disputes its own grade; examining adds no right to dispute."""
    client = world.services["assessment"].client
    both = world.headers(TRAINEE_WHO_EXAMINES)
    filed = await client.post(
        f"/trainees/{OTHER_TRAINEE}/disputes", json={"reason": "not mine"}, headers=both
    )
    assert filed.status_code == 404, filed.text
    management = world.headers(Role.MANAGEMENT)
    still = await client.get(f"/disputes/{world.disputes[OTHER_BRANCH]}", headers=management)
    assert still.status_code == 200
