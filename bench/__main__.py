"""The benchmark runner: ``python -m bench [SUITE ...]`` (no suite: all of them).

Suites register below as name -> async function taking a :class:`BenchConfig` and returning
:class:`Row` objects; the runner prints each suite's table and rewrites the suite's section of
docs/benchmarks.md, then docs/performance.md from those sections (``bench.perf_report``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import (
    assessment_bench,
    boards_bench,
    bus_bench,
    compensation_bench,
    http_bench,
    perf_report,
    personal_bench,
    propagation_bench,
    scaleout_bench,
    store_bench,
    what_if_bench,
)
from bench.common import (
    DOC_HEADER,
    MACHINE_END,
    MACHINE_START,
    BenchConfig,
    Row,
    busy,
    load_average,
    log,
    machine_block,
    machine_facts,
    markdown_section,
    print_table,
    replace_between,
    update_doc,
    wait_until_quiet,
)
from shared.api import tune_gc
from shared.settings import Settings

Suite = Callable[[BenchConfig], Awaitable[list[Row]]]

# name -> (section title, suite). Add a suite here; its name is also its docs marker.
SUITES: dict[str, tuple[str, Suite]] = {
    "store": ("Event store", store_bench.run),
    "bus": ("Bus: relay and latency", bus_bench.run),
    "compensation": ("Compensation", compensation_bench.run),
    "http": ("HTTP commands", http_bench.run),
    "propagation": ("Cross-service propagation", propagation_bench.run),
    "assessment": ("Assessment: grade board, rebuild, audit", assessment_bench.run),
    "boards": ("Boards at scale: trainers, training progress, trends", boards_bench.run),
    "what-if": ("What if: a draft weighed over a year", what_if_bench.run),
    "personal": ("Personal data: sealing and revealing", personal_bench.run),
    "scaleout": ("Scale-out: consumption by 1, 2 and 3 replicas", scaleout_bench.run),
}

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
PERFORMANCE = ROOT / "docs" / "performance.md"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "suites",
        nargs="*",
        choices=[[], *SUITES],
        metavar="SUITE",
        help=f"suites to run (default: all): {', '.join(SUITES)}",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply workload sizes (0.1: a smoke run)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each suite, wait up to SECONDS for the load average to drop (shared machines)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a goal is missed"
    )
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help=f"do not update {DOCS.relative_to(ROOT)} and {PERFORMANCE.relative_to(ROOT)}",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="PATH",
        help="also write the performance report, with this run's figures, to PATH (any scale)",
    )
    return parser.parse_args(argv)


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings()
    # The garbage-collector setting a service process runs with (shared.api.tune_gc), for the
    # suites that run Gradeline's store, relay and consumers in this process, and so for their
    # baselines beside them: a process setting is never counted for or against either side.
    # (Measured on the store suite's reads: Python's default collected every 700 new objects,
    # read_all 86k -> 119k ev/s, its raw baseline 132k -> 141k.)
    tune_gc(settings.gc_gen0_threshold)
    config = BenchConfig(pg_dsn=settings.pg_dsn, amqp_url=settings.amqp_url, scale=args.scale)
    facts = await machine_facts(config.pg_dsn)
    # A scaled-down run is a smoke test: its numbers do not belong in the documents.
    write_docs = not args.no_docs and args.scale == 1.0
    # This run's sections over the last full run's: what the performance report is built from.
    doc = DOCS.read_text(encoding="utf-8") if DOCS.exists() else DOC_HEADER
    doc = replace_between(doc, MACHINE_START, MACHINE_END, machine_block(facts))
    failed = False
    for name in args.suites or list(SUITES):
        title, suite = SUITES[name]
        before = await wait_until_quiet(args.wait_quiet) if args.wait_quiet else load_average()
        if busy(before):
            log(f"warning: load average {before:.2f}: other work competes for the cores")
        rows = await suite(config)
        loads = (before, load_average())
        print_table(f"{title} (suite {name})", rows)
        failed |= any(row.met is False for row in rows)
        section = markdown_section(f"{title} (`python -m bench {name}`)", rows, loads)
        doc = replace_between(doc, f"<!-- suite:{name} -->", f"<!-- /suite:{name} -->", section)
        if write_docs:
            update_doc(DOCS, name, section, facts)
    if write_docs:
        perf_report.write(DOCS.read_text(encoding="utf-8"), PERFORMANCE)
        log(f"wrote {DOCS.name} and {PERFORMANCE.name}")
    if args.report is not None:
        perf_report.write(doc, args.report)
        log(f"wrote the performance report to {args.report}")
    return 1 if failed and args.strict else 0


def run() -> None:
    try:
        import uvloop
    except ImportError:  # the services run on uvloop when it is there; so do the benchmarks
        sys.exit(asyncio.run(main(sys.argv[1:])))
    sys.exit(uvloop.run(main(sys.argv[1:])))


if __name__ == "__main__":
    run()
