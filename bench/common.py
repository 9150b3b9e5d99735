"""What every suite shares: result rows, paired timing, percentiles, fresh databases, reports.

Method (see docs/benchmarks.md): each workload is compared with baselines measured in the same
run, on the same machine, with the same connection strategy. After one warm-up run of each side,
the sides take turns for ``reps`` rounds (system, baseline, system, ...), so that drift of the
machine (autovacuum, checkpoints, a noisy neighbour) hits all of them; the median of each side is
reported, and the ratio of the medians.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from shared import db

# A workload does its work and returns how many operations (events, requests...) it did.
Workload = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What the runner hands every suite."""

    pg_dsn: str  # the server's maintenance database; suites create their own databases
    amqp_url: str
    scale: float = 1.0  # multiplies workload sizes: 0.1 for a quick smoke run

    def size(self, n: int, minimum: int = 1) -> int:
        return max(minimum, int(n * self.scale))


@dataclass(frozen=True, slots=True)
class Row:
    """One measured comparison: the system's median against the baseline's median."""

    suite: str
    workload: str
    unit: str  # "ev/s", "req/s", "ms p99"...
    system: str
    value: float
    baseline: str
    baseline_value: float
    goal: float | None = None  # the minimum acceptable ratio
    min_value: float | None = None  # a floor for ``value`` (a ceiling when lower is better)
    higher_is_better: bool = True  # False for latencies: the ratio is then baseline / system
    runs: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())  # every repetition, both sides
    note: str = ""  # how the workload is defined (sizes, concurrency), for the report

    @property
    def ratio(self) -> float:
        """Above 1 means the system did better than the baseline, whatever the unit."""
        if self.higher_is_better:
            return self.value / self.baseline_value if self.baseline_value else float("inf")
        return self.baseline_value / self.value if self.value else float("inf")

    @property
    def met(self) -> bool | None:
        """None when the row has no goal."""
        if self.goal is None and self.min_value is None:
            return None
        ratio_ok = self.goal is None or self.ratio >= self.goal
        floor_ok = self.min_value is None or (
            self.value >= self.min_value if self.higher_is_better else self.value <= self.min_value
        )
        return ratio_ok and floor_ok


def log(message: str) -> None:
    """Progress on stderr, so the report on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Every repetition's throughput of each side of a measurement, by side.
Runs = dict[str, list[float]]


async def throughput(workload: Workload) -> float:
    """Operations per second of one run of ``workload``."""
    started = time.perf_counter()
    done = await workload()
    return done / (time.perf_counter() - started)


async def alternate(sides: Mapping[str, Workload], *, reps: int = 3, warmup: bool = True) -> Runs:
    """Throughput of every side: one warm-up run each, then ``reps`` rounds running the sides in
    turn, so that drift of the machine during the measurement hits every side alike.

    Each round starts one side further along (A B C, B C A, C A B, ...), so that no side always
    runs right after the same other one: a side that evicts the next one's pages from the
    database's buffers, or leaves garbage to collect, would otherwise always hurt the same side.
    """
    if warmup:
        for workload in sides.values():
            await workload()
    names = list(sides)
    runs: Runs = {name: [] for name in names}
    for round_ in range(reps):
        for k in range(len(names)):
            name = names[(round_ + k) % len(names)]
            runs[name].append(await throughput(sides[name]))
    return runs


def comparison_row(
    suite: str,
    workload: str,
    system: tuple[str, list[float]],
    baseline: tuple[str, list[float]],
    *,
    unit: str = "ev/s",
    **extra: Any,
) -> Row:
    """A row comparing the medians of two sides' runs (``(name, runs)`` each)."""
    return Row(
        suite=suite,
        workload=workload,
        unit=unit,
        system=system[0],
        value=statistics.median(system[1]),
        baseline=baseline[0],
        baseline_value=statistics.median(baseline[1]),
        runs=(tuple(system[1]), tuple(baseline[1])),
        **extra,
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@asynccontextmanager
async def fresh_database(admin_dsn: str, label: str = "") -> AsyncIterator[str]:
    """A new database ``bench_<random>[_label]`` for one benchmark; dropped afterwards.

    Yields its DSN. A fresh database per benchmark keeps results independent of whatever earlier
    runs left behind (bloat, statistics, cached plans).
    """
    name = f"bench_{secrets.token_hex(4)}" + (f"_{label}" if label else "")
    await db.ensure_database(admin_dsn, name)
    try:
        yield db.dsn_for_database(admin_dsn, name)
    finally:
        await db.drop_database(admin_dsn, name)


# --- machine facts -----------------------------------------------------------------------------


async def machine_facts(pg_dsn: str) -> dict[str, str]:
    """What a reader needs to judge the numbers: cores, server version and durability settings."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        version = await conn.fetchval("SHOW server_version")
        durability = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "shared_buffers")
        }
    finally:
        await conn.close()
    return {
        "cores (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU": _cpu_model(),
        "PostgreSQL": f"{version} ({', '.join(f'{k}={v}' for k, v in durability.items())})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "event loop": _event_loop_name(),
    }


def load_average() -> float:
    """The 1-minute load average: on a shared machine, how quiet the measurement was."""
    return os.getloadavg()[0]


def busy(load: float) -> bool:
    """More runnable processes than half the cores: other work competes with the benchmark."""
    return load > len(os.sched_getaffinity(0)) / 2


async def wait_until_quiet(max_seconds: float, poll_seconds: float = 5.0) -> float:
    """Wait up to ``max_seconds`` for the machine to stop being busy; returns the load then."""
    deadline = time.monotonic() + max_seconds
    load = load_average()
    while busy(load) and time.monotonic() < deadline:
        await asyncio.sleep(poll_seconds)
        load = load_average()
    return load


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def _event_loop_name() -> str:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return "none"
    return type(loop).__module__.split(".")[0]


# --- reports -----------------------------------------------------------------------------------


def fmt(value: float) -> str:
    """Compact numbers for tables: 152k, 8.41k, 950, 0.83."""
    if value >= 100_000:
        return f"{value / 1000:.0f}k"
    if value >= 1_000:
        return f"{value / 1000:.2f}k"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}"


def goal_text(row: Row) -> str:
    parts = []
    if row.goal is not None:
        parts.append(f"≥ {row.goal:.2f}×")
    if row.min_value is not None:
        sign = "≥" if row.higher_is_better else "≤"
        parts.append(f"{sign} {fmt(row.min_value)} {row.unit}")
    return ", ".join(parts) or "–"


def met_text(row: Row) -> str:
    return {None: "", True: "yes", False: "**no**"}[row.met]


TABLE_HEADER = ("workload", "Gradeline", "baseline", "baseline value", "ratio", "goal", "met")


def table_cells(row: Row) -> tuple[str, ...]:
    return (
        row.workload,
        f"{fmt(row.value)} {row.unit}",
        row.baseline,
        f"{fmt(row.baseline_value)} {row.unit}",
        f"{row.ratio:.2f}×",
        goal_text(row),
        met_text(row),
    )


def print_table(title: str, rows: Sequence[Row]) -> None:
    """The console report (rich when it is installed, plain text otherwise)."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is a dependency, but a bare environment should still report
        print(title)
        for row in rows:
            print(" | ".join(table_cells(row)))
        return
    table = Table(title=title)
    for name in TABLE_HEADER:
        table.add_column(name, justify="left" if name in ("workload", "baseline") else "right")
    for row in rows:
        cells = list(table_cells(row))
        cells[-1] = cells[-1].replace("**no**", "[bold red]no[/]")
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:  # piped or captured: don't wrap the table at 80 columns
        console = Console(width=160)
    console.print(table)


def markdown_section(title: str, rows: Sequence[Row], loads: tuple[float, float]) -> str:
    """A suite's section: when and how quietly it ran, the table, then what each workload is."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context = f"Measured {when}; 1-minute load average {loads[0]:.2f} before, {loads[1]:.2f} after."
    # Only the load before counts: the one after includes the suite's own work.
    if busy(loads[0]):
        context += " **The machine was busy with other work: treat these figures with caution.**"
    notes = [f"- **{row.workload}**: {row.note}" for row in rows if row.note]
    parts = (f"## {title}", context, markdown_table(rows), "\n".join(notes))
    return "\n\n".join(part for part in parts if part)


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [
        "| " + " | ".join(TABLE_HEADER) + " | runs (Gradeline / baseline) |",
        "|" + " --- |" * (len(TABLE_HEADER) + 1),
    ]
    for row in rows:
        runs = " / ".join(", ".join(fmt(v) for v in side) for side in row.runs)
        lines.append("| " + " | ".join((*table_cells(row), runs)) + " |")
    return "\n".join(lines)


DOC_HEADER = """# Benchmarks

Produced by `python -m bench` (all suites) or `python -m bench SUITE`; each suite rewrites its own
section below, between its markers, and the machine block.

## Method

- **Baselines in the same run.** Every figure of Gradeline is paired with a baseline that does the
  nearest plain thing (raw asyncpg SQL, another library) on the same machine, in the same process
  and run, with the same connection strategy (the same `shared.db.create_pool` settings). Absolute
  numbers move with the machine; the **ratio** Gradeline / baseline is what the goals are set on.
  A ratio above 1 means Gradeline did better (for latencies the ratio is inverted accordingly).
- **Repetitions.** One warm-up run of each side, then 3 rounds running the sides in turn, each
  round starting one side further along (A B, B A, A B), so that drift, and whatever a run leaves
  behind for the next (evicted buffers, garbage), hits every side alike; the median of each side
  is reported, and every run is listed.
- **Quiet machine.** The machine may be shared; each section gives the load average before and
  after its suite and is flagged when other work competed for the cores.
- **Fresh databases.** Each suite creates its own databases (`bench_<random>`) and drops them at
  the end.
- **Whole-machine figures.** The client, PostgreSQL and RabbitMQ share the same cores, so every
  figure includes the cost of all of them.
"""

MACHINE_START, MACHINE_END = "<!-- machine -->", "<!-- /machine -->"


def machine_block(facts: dict[str, str]) -> str:
    lines = [f"- {name}: {value}" for name, value in facts.items()]
    return "\n".join(["## Machine (of the last run)", "", *lines])


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """``text`` with the part between the markers ``start`` and ``end`` replaced (or appended)."""
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip() + "\n\n" + block + "\n"


def update_doc(path: Path, suite: str, section: str, facts: dict[str, str]) -> None:
    """Write ``section`` as suite ``suite`` of the benchmarks document, keeping other suites."""
    text = path.read_text(encoding="utf-8") if path.exists() else DOC_HEADER
    text = replace_between(text, MACHINE_START, MACHINE_END, machine_block(facts))
    text = replace_between(text, f"<!-- suite:{suite} -->", f"<!-- /suite:{suite} -->", section)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
