"""What the demo shows on the console: its progress while it runs, then the summary of what it
posted and what the services answered (the grade board, disputes, fines, fees, the payroll)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ops import scenario as sc
from ops.client import JsonDict, Stats

GRADES = (
    ("technician", "junior"),
    ("technician", "intermediate"),
    ("technician", "senior"),
    ("engineer", "junior"),
    ("engineer", "intermediate"),
    ("engineer", "senior"),
)


@dataclass
class DemoSummary:
    """What the demo posted, what the scenario expects, and what the services answered."""

    seed: int
    prefix: str
    anchor: date
    month: str
    scenario: dict[str, Any]
    expected_board: dict[tuple[str, str, str], list[str]]
    board_rows: list[JsonDict]
    expected_fines: list[sc.Fine]
    fines: list[JsonDict]
    expected_fees: dict[str, Decimal]
    fees: list[JsonDict]
    expected_payslips: list[str]
    payslips: list[JsonDict]
    disputes: list[JsonDict]
    stats: Stats
    seconds: float
    problems: list[str] = field(default_factory=list)
    # (trainer, session) -> the failed a fined trainer keeps training, as the board shows
    retraining: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def board(self) -> dict[tuple[str, str, str], int]:
        return board_counts(self.board_rows)


def board_counts(rows: Sequence[JsonDict]) -> dict[tuple[str, str, str], int]:
    """The grade board's counts by (branch, position, level), from ``GET /board/grades`` rows."""
    return {(r["branch_id"], r["position"], r["level"]): r["count"] for r in rows}


def progress_bars(console: Console) -> Progress:
    """The demo's progress display (it adds a bar for the central steps and one per branch)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def board_table(rows: Sequence[JsonDict], title: str = "grade board 定职定级") -> Table:
    """Counts by branch x position x level (GET /board/grades), narrow enough for 80 columns."""
    counts = board_counts(rows)
    legend = "tech 技工, eng 工程师; jr 初级, int 中级, sr 高级"
    table = Table(title=title, box=box.SIMPLE_HEAD, caption=legend)
    table.add_column("branch", no_wrap=True)
    for position, level in GRADES:
        short = {"technician": "tech", "engineer": "eng"}[position]
        abbreviation = {"junior": "jr", "intermediate": "int", "senior": "sr"}[level]
        table.add_column(f"{short} {abbreviation}", justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    branches = [b for b in sc.BRANCHES if any(k[0] == b for k in counts)]
    branches += sorted({k[0] for k in counts} - set(branches))
    for branch in branches:
        cells = [counts.get((branch, p, lv), 0) for p, lv in GRADES]
        table.add_row(branch, *map(str, cells), str(sum(cells)))
    totals = [sum(counts.get((b, p, lv), 0) for b in branches) for p, lv in GRADES]
    table.add_row("all", *map(str, totals), str(sum(totals)), style="bold")
    return table


def _percent(rate: str) -> str:
    return f"{Decimal(rate) * 100:.1f} %"


def print_summary(summary: DemoSummary, console: Console) -> None:
    s = summary.scenario
    branches = ", ".join(f"{b} {n}" for b, n in s["by_branch"].items())
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(s["dispositions"].items()))
    console.print(
        f"demo {summary.prefix} (seed {summary.seed}, exams held {summary.anchor}):"
        f" {s['trainees']} trainees: {branches}\n"
        f"  training: {s['trainers']} trainers, {s['training_days']} daily records"
        f" ({s['dissenting_days']} dissenting), {s['disputed_sign_offs']} disputed sign-offs,"
        f" {s['send_backs']} send-backs\n"
        f"  exams: {s['sessions']} sessions, {s['failed']} failed ({outcomes})"
    )
    console.print(board_table(summary.board_rows))
    for d in summary.disputes:
        change = f"{d['before']} -> {d['after']}" if d["before"] else f"{d['after']} stands"
        console.print(f"dispute {d['dispute_id']} on {d['trainee_id']}: {d['outcome']} ({change})")
    for fine in summary.fines:
        console.print(
            f"trainer fine {summary.month} (R-24): {fine['trainer_id']} in {fine['session_id']},"
            f" {_percent(fine['failure_rate'])} failed -> {fine['amount']} yuan"
        )
    for (trainer, session), owed in sorted(summary.retraining.items()):
        console.print(
            f"keeps training until they pass (R-24): {trainer} for {session}: {', '.join(owed)}"
        )
    per_branch: dict[str, list[Decimal]] = {}
    for fee in summary.fees:
        per_branch.setdefault(fee["branch_id"], []).append(Decimal(fee["amount"]))
    for branch, amounts in sorted(per_branch.items()):
        console.print(
            f"branch fee {summary.month} (R-19): {branch}, {len(amounts)} trainee(s) kept"
            f" training -> {sum(amounts, Decimal(0)):.2f} yuan"
        )
    total = sum((Decimal(p["total"]) for p in summary.payslips), Decimal(0))
    console.print(f"payroll {summary.month}: {len(summary.payslips)} payslips, {total:.2f} yuan")
    st = summary.stats
    console.print(
        f"{st.writes} writes ({st.replayed} replayed: nothing new), {st.reads} reads"
        if st.writes and st.writes == st.replayed
        else f"{st.writes} writes ({st.replayed} replayed), {st.reads} reads",
        f"in {summary.seconds:.1f} s",
    )
    for problem in summary.problems:
        console.print(f"[red]problem: {problem}")
