"""docs/performance.md is built from the suites' sections of docs/benchmarks.md (no timing here)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bench import http_commands, perf_report
from bench.common import (
    DOC_HEADER,
    MACHINE_END,
    MACHINE_START,
    Row,
    machine_block,
    markdown_section,
    replace_between,
    table_cells,
)

SECRET = "a-test-secret-long-enough-for-hs256-signing"


def row(suite: str, workload: str, value: float, baseline: float, **extra: Any) -> Row:
    extra.setdefault("unit", "req/s")
    return Row(
        suite=suite,
        workload=workload,
        system="Gradeline",
        value=value,
        baseline="bare",
        baseline_value=baseline,
        runs=((value,), (baseline,)),
        note=f"how {workload} is run",
        **extra,
    )


HTTP = [
    row("http", "enrollment POST /trainees, 64 clients: throughput", 900, 1000, goal=0.60),
    row("http", "training PUT /plans/{id}, 64 clients: throughput", 300, 1000, goal=0.60),
    row(
        "http",
        "training PUT /plans/{id}, 64 clients: latency p99",
        180,
        90,
        unit="ms",
        higher_is_better=False,
        min_value=150.0,
    ),
    row("http", "training: RSS after load", 80, 60, unit="MiB", higher_is_better=False),
]
ASSESSMENT = [
    row(
        "assessment",
        "a) board query (`grade_rows`), p50",
        120,
        110,
        unit="ms",
        higher_is_better=False,
    ),
    row(
        "assessment",
        "a) board query (`grade_rows`), p99",
        190,
        180,
        unit="ms",
        higher_is_better=False,
    ),
    row("assessment", "b) rebuild grade board from history", 5000, 100_000, unit="ev/s"),
]


def benchmarks_doc(suites: dict[str, list[Row]]) -> str:
    doc = replace_between(
        DOC_HEADER, MACHINE_START, MACHINE_END, machine_block({"cores (nproc)": "2"})
    )
    for suite, rows in suites.items():
        section = markdown_section(f"{suite} suite", rows, (0.1, 0.5))
        doc = replace_between(doc, f"<!-- suite:{suite} -->", f"<!-- /suite:{suite} -->", section)
    return doc


def figure(report: str, title: str) -> str:
    """The text of one figure's section of the report."""
    start = report.index(f"## {title}")
    end = report.find("\n## ", start + 1)
    return report[start : end if end >= 0 else None]


def test_a_suite_section_reads_back_as_the_cells_the_suite_wrote() -> None:
    section = perf_report.section_of(benchmarks_doc({"http": HTTP}), "http")

    assert section is not None
    assert [line.cells[:-1] for line in section.lines] == [table_cells(r) for r in HTTP]
    assert section.lines[0].note == f"how {HTTP[0].workload} is run"
    assert section.context.startswith("Measured")


def test_each_figure_shows_its_rows_with_baseline_ratio_and_goal() -> None:
    report = perf_report.build(benchmarks_doc({"http": HTTP, "assessment": ASSESSMENT}))

    http = figure(report, "HTTP commands per service")
    assert (
        "| enrollment POST /trainees, 64 clients: throughput | 900 req/s | bare | 1.00k req/s"
        " | 0.90× | ≥ 0.60× | yes |" in http
    )
    assert "RSS" not in http  # memory has a figure of its own
    assert "training: RSS after load | 80 MiB | bare | 60 MiB | 0.75×" in figure(
        report, "Resident memory per service"
    )
    board = figure(report, "Board query at 100,000 trainees")
    assert "p99" in board and "p50" not in board
    assert "b) rebuild grade board from history" in figure(report, "Projection rebuild rate")
    assert "- cores (nproc): 2" in report


def test_a_suite_that_never_ran_is_reported_as_not_measured() -> None:
    report = perf_report.build(benchmarks_doc({"http": HTTP}))

    assert "_Not measured yet: run `python -m bench propagation`._" in figure(
        report, "Cross-service propagation"
    )


def test_missed_goals_are_listed_with_the_profile_notes_after_them() -> None:
    report = perf_report.build(benchmarks_doc({"http": HTTP}), "## Profile\n\nthe decoder")

    missed = figure(report, "Goals missed")
    assert "training PUT /plans/{id}, 64 clients: throughput**: 300 req/s against 1.00k" in missed
    assert "latency p99**: 180 ms" in missed
    assert "enrollment" not in missed  # it met its goal
    assert report.index("## Goals missed") < report.index("## Profile")


def test_with_every_goal_met_the_report_says_so() -> None:
    report = perf_report.build(benchmarks_doc({"http": HTTP[:1]}))

    assert "Every figure with a goal met it" in report


# --- the requests the http suite sends ---------------------------------------------------------


def test_every_enrolment_carries_its_own_trainee_id_in_key_and_body() -> None:
    """R-3: each request enrols a new trainee; the pre-encoded length stays right."""
    first, second = itertools.islice(http_commands.Enrolments(SECRET), 2)

    for n, request in enumerate((first, second)):
        head, body = request.split(b"\r\n\r\n", 1)
        trainee = http_commands.trainee_id("t", n).encode()
        assert b"Idempotency-Key: enrol-" + trainee in head
        assert b'"trainee_id":"' + trainee + b'"' in body
        assert f"Content-Length: {len(body)}".encode() in head


def test_exam_scores_go_to_a_different_sitting_each_time_and_six_complete_one() -> None:
    """R-15/R-16: a written score and five practical scores per sitting; consecutive requests
    touch different sittings, so the 64 clients do not queue on one stream."""
    trainees = ["s-1", "s-2", "s-3"]
    requests = list(http_commands.exam_scores(SECRET, trainees, sessions=1))

    assert len(requests) == 6 * len(trainees)
    for a, b in itertools.pairwise(requests):
        assert a.split(b'"trainee_id":"')[1][:3] != b.split(b'"trainee_id":"')[1][:3]


@pytest.mark.parametrize("supply", ["plan_drafts", "travel_days"])
def test_repeated_commands_are_never_the_same_request_twice(supply: str) -> None:
    requests = getattr(http_commands, supply)(SECRET, ["s-1", "s-2"])
    bodies = [r.split(b"\r\n\r\n", 1)[1] for r in itertools.islice(requests, 6)]

    assert len(set(bodies)) == len(bodies)
