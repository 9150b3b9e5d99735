"""docs/performance.md: the figures issue 7 asks for, gathered from the suites' sections.

Nothing is measured here. The report reads the sections the suites wrote into docs/benchmarks.md
(the runner first puts this run's rows there, in memory at least), picks each figure's rows by
their workload names, and lays them out with their baselines, ratios, goals, the machine and the
method; then lists the goals missed, followed by the hand-kept profile notes
(``bench/profile_notes.md``) that say why. ``python -m bench.perf_report`` rebuilds the report
from docs/benchmarks.md alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import MACHINE_END, MACHINE_START, TABLE_HEADER

PROFILE_NOTES = Path(__file__).resolve().parent / "profile_notes.md"
HEADER = "| " + " | ".join(TABLE_HEADER) + " | runs (Gradeline / baseline) |"
SEPARATOR = "|" + " --- |" * (len(TABLE_HEADER) + 1)
MET = TABLE_HEADER.index("met")


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a suite's table, as the suite wrote it, with its note."""

    cells: tuple[str, ...]
    note: str

    @property
    def workload(self) -> str:
        return self.cells[0]

    @property
    def missed(self) -> bool:
        return self.cells[MET] == "**no**"


@dataclass(frozen=True, slots=True)
class Section:
    suite: str
    context: str  # "Measured <when>; load average ..."
    lines: tuple[Line, ...]


def section_of(doc: str, suite: str) -> Section | None:
    """Suite ``suite``'s section of the benchmarks document, None when it never ran."""
    match = re.search(
        rf"<!-- suite:{re.escape(suite)} -->(.*?)<!-- /suite:{re.escape(suite)} -->", doc, re.DOTALL
    )
    if match is None:
        return None
    text = match.group(1)
    context = next((s for s in text.splitlines() if s.startswith("Measured")), "")
    notes = dict(re.findall(r"^- \*\*(.+?)\*\*: (.*)$", text, re.MULTILINE))
    lines = []
    for raw in text.splitlines():
        if not raw.startswith("| ") or raw.strip() == HEADER:
            continue
        cells = tuple(cell.strip() for cell in raw.strip().strip("|").split(" | "))
        if set(cells) == {"---"}:
            continue  # the separator under the header
        lines.append(Line(cells, notes.get(cells[0], "")))
    return Section(suite, context, tuple(lines))


Pick = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the report: which suite measures it and which of its rows are it."""

    title: str
    suite: str
    pick: Pick
    about: str  # what the figure is and what it is compared with


def has(*words: str, without: str = "\0") -> Pick:
    return lambda workload: all(w in workload for w in words) and without not in workload


FIGURES = (
    Figure(
        "HTTP commands per service, 64 concurrent clients",
        "http",
        has(":", without="RSS"),
        "One representative command per service over HTTP (enrol; draft a plan; an exam "
        "score; a month's travel days), each against the same bare FastAPI + one INSERT "
        "endpoint measured in the same rounds; enrolment also against that endpoint "
        "publishing each enrolment on RabbitMQ (what the bus alone costs). Goals (issue 15): "
        "enrolment's throughput ≥ 1.0× the INSERT + publish endpoint's, p99 ≤ 150 ms.",
    ),
    Figure(
        "Cross-service propagation",
        "propagation",
        has("→"),
        "An enrolment posted over HTTP until assessment knows the trainee, against a bare "
        "aio-pika publish → consume at the same rate.",
    ),
    Figure(
        "Projection rebuild rate",
        "assessment",
        has("rebuild"),
        "A read model rebuilt from the whole history into fresh tables, against a raw read "
        "of the same events (measured by the assessment suite).",
    ),
    Figure(
        "Board query at 100,000 trainees",
        "assessment",
        has("p99", without="audit"),
        "The grade board over 100,000 graded trainees and a million events: with every "
        "trainee id, the counts alone, a drill-down page, and as of past moments, each against "
        "raw SQL over plain tables (measured by the assessment suite). Goals (issue 20): the "
        "counts and a page p99 ≤ 20 ms, the counts as of a past moment p99 ≤ 50 ms.",
    ),
    Figure(
        "Event store against raw asyncpg and the `eventsourcing` library",
        "store",
        has(")"),
        "Appends and reads of the event store against raw asyncpg SQL and against the "
        "`eventsourcing` library on the same PostgreSQL.",
    ),
    Figure(
        "Relay and bus against raw aio-pika",
        "bus",
        has(""),
        "The outbox relay and the append → consumer effect latency against bare aio-pika.",
    ),
    Figure(
        "Personal data: what sealing and revealing cost",
        "personal",
        has(""),
        "Appends and replays of the event store sealing and revealing personal fields with "
        "their people's keys (issue 19), against the same store with `personal=None` on the "
        "same events. Goal: append and read_all at least 0.85× of the clear path.",
    ),
    Figure(
        "Resident memory per service under load",
        "http",
        has("RSS"),
        "VmRSS of each service process at the end of its load runs, against the bare "
        "FastAPI app's after its own.",
    ),
)

METHOD = """## Method

Generated by `make bench` (`python -m bench`) from the suites' sections of
[benchmarks.md](benchmarks.md), where every row's workload is described in full. Each figure of
Gradeline is paired with a baseline doing the nearest plain thing, measured in the same run on
the same machine; the **ratio** is Gradeline against the baseline (above 1: Gradeline did better;
for latencies and memory the ratio is inverted accordingly). One warm-up run of each side, then
3 rounds taking turns; medians reported, every run listed. Client, services, PostgreSQL and
RabbitMQ share the machine's cores, so every figure is a whole-machine figure. A section measured
while other work competed for the cores says so."""


def figure_text(figure: Figure, section: Section | None) -> tuple[str, list[Line]]:
    """The figure's markdown and the rows it shows."""
    title = f"## {figure.title}"
    command = f"`python -m bench {figure.suite}`"
    picked = [] if section is None else [ln for ln in section.lines if figure.pick(ln.workload)]
    if not picked:
        return f"{title}\n\n{figure.about}\n\n_Not measured yet: run {command}._", []
    table = [HEADER, SEPARATOR, *("| " + " | ".join(ln.cells) + " |" for ln in picked)]
    notes = [f"- **{ln.workload}**: {ln.note}" for ln in picked if ln.note]
    assert section is not None
    parts = [title, figure.about, f"From {command}. {section.context}", "\n".join(table)]
    return "\n\n".join([*parts, "\n".join(notes)] if notes else parts), picked


def missed_text(missed: list[Line]) -> str:
    if not missed:
        return "## Goals\n\nEvery figure with a goal met it in the last run."
    items = [
        f"- **{ln.workload}**: {ln.cells[1]} against {ln.cells[3]} ({ln.cells[4]}); goal "
        f"{ln.cells[5]}."
        for ln in missed
    ]
    return "\n".join(["## Goals missed", "", *items])


def machine_of(doc: str) -> str:
    match = re.search(re.escape(MACHINE_START) + r"(.*?)" + re.escape(MACHINE_END), doc, re.DOTALL)
    return match.group(1).strip() if match else "## Machine\n\n_unknown: no suite has run_"


def build(doc: str, profile_notes: str = "") -> str:
    """The performance report from the benchmarks document's text."""
    parts = [
        "# Performance",
        "Issue 7's figures: per service HTTP command throughput and latency, cross-service "
        "propagation, projection rebuild rate, board query at 100,000 trainees, the event store "
        "and bus against raw asyncpg, aio-pika and the `eventsourcing` library, memory per "
        "service. Each against a baseline measured in the same run.",
        machine_of(doc),
        METHOD,
    ]
    missed: list[Line] = []
    for figure in FIGURES:
        text, shown = figure_text(figure, section_of(doc, figure.suite))
        parts.append(text)
        missed += [ln for ln in shown if ln.missed]
    parts.append(missed_text(missed))
    if profile_notes.strip():
        parts.append(profile_notes.strip())
    return "\n\n".join(parts) + "\n"


def write(doc: str, path: Path) -> None:
    notes = PROFILE_NOTES.read_text(encoding="utf-8") if PROFILE_NOTES.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build(doc, notes), encoding="utf-8")


def main() -> None:
    """``python -m bench.perf_report``: the report again from docs/benchmarks.md, no measuring."""
    root = Path(__file__).resolve().parent.parent
    write(
        (root / "docs" / "benchmarks.md").read_text(encoding="utf-8"),
        root / "docs" / "performance.md",
    )


if __name__ == "__main__":
    main()
