"""The demo loader (ops/demo.py) against the four apps in process, over the real bus: five
branches post a small scenario concurrently through every service; the boards, the payroll month,
a branch fee and a trainer fine come out as the scenario intends, and a second run appends
nothing (every write replays its Idempotency-Key)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ops import scenario as sc
from ops.demo import load_demo
from ops.organisation import demo_staff

TRAINEES = 12


@pytest.fixture
async def services(start):
    return await start("compensation", "assessment", "training", "enrollment")


async def load(services, seed=7):
    transports = {name: httpx.ASGITransport(app=svc.app) for name, svc in services.items()}
    secret = services["enrollment"].settings.jwt_secret
    return await load_demo(
        {name: f"http://{name}" for name in services},
        secret=secret,
        seed=seed,
        trainees=TRAINEES,
        transports=transports,
        show_progress=False,
        wait_seconds=60,
    )


async def event_counts(services) -> dict[str, int]:
    return {
        name: await svc.pool.fetchval("SELECT count(*) FROM events")
        for name, svc in services.items()
    }


@pytest.mark.timeout(120)
async def test_five_branches_load_the_demo_and_a_second_run_appends_nothing(services):
    summary = await load(services)
    assert summary.problems == []

    # Every branch took part; the board shows exactly the grades the scenario intends.
    assert set(summary.scenario["by_branch"]) == set(sc.BRANCHES)
    assert sum(summary.scenario["by_branch"].values()) == TRAINEES
    board = {
        (r["branch_id"], r["position"], r["level"]): r["trainee_ids"] for r in summary.board_rows
    }
    assert board == summary.expected_board
    assert summary.board == {k: len(v) for k, v in summary.expected_board.items()}
    assert sum(summary.board.values()) > TRAINEES // 2

    # The training round held what the issue asks for.
    s = summary.scenario
    assert s["dissenting_days"] >= 1 and s["disputed_sign_offs"] >= 1 and s["send_backs"] >= 1
    assert s["failed"] >= 1 and "continue_training" in s["dispositions"]
    (corrected,) = [d for d in summary.disputes if d["outcome"] == "corrected"]
    assert corrected["before"] != corrected["after"]

    # R-12b: a trainer worried about a branch-commissioned trainee of each branch office and
    # dealer; the manager handled each concern (so each branch's feed has something).
    concerns = await services["training"].pool.fetch(
        "SELECT type, branch_id FROM events WHERE type IN ('TraineeConcernNoted', 'ConcernHandled')"
    )
    assert sorted(r["branch_id"] for r in concerns if r["type"] == "ConcernHandled") == sorted(
        set(sc.BRANCHES) - {"hq"}
    )
    assert len(concerns) == 2 * (len(sc.BRANCHES) - 1)

    # The payroll month: a payslip per HQ employee, a dealer's fee, a trainer's fine.
    assert summary.payslips
    assert {p["employee_id"] for p in summary.payslips} == set(summary.expected_payslips)
    assert summary.fees and {r["trainee_id"] for r in summary.fees} == set(summary.expected_fees)
    for fee in summary.fees:
        assert fee["branch_id"] in sc.DEALERS
        assert (fee["days"], fee["amount"]) == (1, "200.00")
    assert summary.fines
    assert {(f["trainer_id"], f["session_id"], Decimal(f["amount"])) for f in summary.fines} == {
        (f.trainer_id, f.session_id, f.amount) for f in summary.expected_fines
    }
    assert max(Decimal(f["failure_rate"]) for f in summary.fines) >= Decimal("0.4")

    # The administrator registered the branches, trainers and examiners first.
    registered = await services["enrollment"].pool.fetch(
        "SELECT type, count(*) FROM events WHERE type IN ('BranchRegistered', 'StaffRegistered')"
        " GROUP BY type"
    )
    assert dict(registered) == {
        "BranchRegistered": len(sc.BRANCHES),
        "StaffRegistered": len(demo_staff()),
    }

    # Running the demo again replays every write and appends nothing anywhere.
    before = await event_counts(services)
    assert all(before.values()), before
    again = await load(services)
    assert await event_counts(services) == before
    assert again.problems == []
    assert again.stats.writes == again.stats.replayed > 0
    assert again.board == summary.board
    assert again.anchor == summary.anchor
