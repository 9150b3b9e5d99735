"""The demo's printed report (ops/report.py): the grade board by branch, position and level, and
one line each for disputes, fines (R-24), branch fees (R-19), the payroll and the requests."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from ops import scenario as sc
from ops.client import Stats
from ops.report import DemoSummary, board_table, print_summary

ROWS = [
    {"branch_id": "hq", "position": "engineer", "level": "senior", "count": 2},
    {"branch_id": "hq", "position": "technician", "level": "junior", "count": 1},
    {"branch_id": "bo-east", "position": "engineer", "level": "senior", "count": 3},
]


def printed(renderable: object, width: int = 100) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_board_counts_each_branch_in_the_scenarios_order_and_totals_them():
    lines = printed(board_table(ROWS), width=80).splitlines()

    rows = {line.split()[0]: line.split()[1:] for line in lines if line.strip()}
    # columns: tech jr, tech int, tech sr, eng jr, eng int, eng sr, total
    assert rows["hq"] == ["1", "0", "0", "0", "0", "2", "3"]
    assert rows["bo-east"] == ["0", "0", "0", "0", "0", "3", "3"]
    assert rows["all"] == ["1", "0", "0", "0", "0", "5", "6"]
    branches = [b for b in (line.split()[0] for line in lines if line.strip()) if b in rows]
    assert branches.index("hq") < branches.index("bo-east") < branches.index("all")
    assert max(len(line) for line in lines) <= 80


def summary(stats: Stats) -> DemoSummary:
    scenario = sc.build(7, 12, date(2026, 3, 20))
    return DemoSummary(
        seed=7,
        prefix=scenario.prefix,
        anchor=scenario.anchor,
        month="2026-03",
        scenario=sc.describe(scenario),
        expected_board={},
        board_rows=ROWS,
        expected_fines=[],
        fines=[
            {"trainer_id": "tr-1", "session_id": "s-1", "failure_rate": "0.25", "amount": "500.00"}
        ],
        expected_fees={},
        fees=[
            {"branch_id": "dl-north", "amount": "200.00"},
            {"branch_id": "dl-north", "amount": "400.00"},
        ],
        expected_payslips=[],
        payslips=[{"total": "3200.00"}, {"total": "2900.00"}],
        disputes=[
            {
                "dispute_id": "d-1",
                "trainee_id": "t-1",
                "outcome": "corrected",
                "before": "engineer junior",
                "after": "engineer senior",
            }
        ],
        stats=stats,
        seconds=12.34,
        problems=["t-9: decided nothing"],
    )


def test_the_summary_says_what_the_round_held_and_what_the_services_answered():
    console = Console(record=True, width=100, color_system=None)

    print_summary(summary(Stats(writes=40, replayed=2, reads=9)), console)

    text = console.export_text()
    assert "dispute d-1 on t-1: corrected (engineer junior -> engineer senior)" in text
    assert "trainer fine 2026-03 (R-24): tr-1 in s-1, 25.0 % failed -> 500.00 yuan" in text
    assert "branch fee 2026-03 (R-19): dl-north, 2 trainee(s) kept training -> 600.00 yuan" in text
    assert "payroll 2026-03: 2 payslips, 6100.00 yuan" in text
    assert "40 writes (2 replayed), 9 reads in 12.3 s" in text
    assert "problem: t-9: decided nothing" in text


def test_a_second_run_says_it_added_nothing():
    console = Console(record=True, width=100, color_system=None)

    print_summary(summary(Stats(writes=40, replayed=40, reads=9)), console)

    assert "40 writes (40 replayed: nothing new), 9 reads in 12.3 s" in console.export_text()
