"""``python -m bench.load``: start the four services, post a load, check that nothing was lost.

Starts the services as child processes (like ``make run``) in a fresh namespace on free ports,
posts the demo's domain flow from N concurrent branch offices with retries and duplicate sends,
then reports throughput, latencies and a pass/fail line per check; exit status 1 when a check
fails. The namespace's databases, exchanges and queues are removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from shared.settings import Settings

from . import checks, cluster
from .http import Duplicates
from .run import LoadConfig, LoadOutcome, describe, run_load

LOG_DIR = Path(__file__).resolve().parents[2] / ".run" / "load"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--offices", type=int, default=8, help="concurrent branch offices")
    parser.add_argument("--trainees", type=int, default=80, help="trainees in the scenario (>= 5)")
    parser.add_argument("--seed", type=int, default=11, help="the scenario's random seed")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.1,
        help="fraction of writes sent twice with the same key",
    )
    parser.add_argument(
        "--converge", type=float, default=10.0, help="seconds allowed to catch up after the load"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the namespace's databases, exchanges and queues"
    )
    return parser.parse_args(argv)


def print_report(outcome: LoadOutcome, results: list[checks.Check]) -> None:
    facts = describe(outcome)
    print(
        f"load {outcome.prefix}: {outcome.config.offices} offices, {outcome.config.trainees}"
        f" trainees, {facts['requests']} requests in {facts['seconds']:.1f} s"
        f" = {facts['throughput']:.0f} req/s; statuses {facts['statuses']};"
        f" {facts['duplicates_sent']} duplicate sends; transport errors"
        f" {facts['transport_errors'] or 'none'}"
    )
    for service, row in facts["per_service"].items():
        print(
            f"  {service:<13} {row['requests']:>6} requests  p50 {row['p50']:7.1f} ms"
            f"  p99 {row['p99']:7.1f} ms  max {row['max']:7.1f} ms"
        )
    for problem in outcome.problems:
        print(f"  problem: {problem}")
    for result in results:
        print(f"  [{'pass' if result.ok else 'FAIL'}] {result.name}: {result.detail}")


async def main(args: argparse.Namespace) -> int:
    base = Settings()
    settings = cluster.cluster_settings(base.pg_dsn, base.amqp_url)
    config = LoadConfig(
        offices=args.offices,
        trainees=args.trainees,
        seed=args.seed,
        duplicates=Duplicates(fraction=args.duplicates, seed=args.seed),
    )
    services = cluster.Cluster(settings, LOG_DIR)
    try:
        for name in cluster.SERVICES:
            services.start(name)
        await services.wait_ready()
        outcome = await run_load(services.urls, settings.jwt_secret, config)
        results = await checks.run_checks(settings, outcome.recorder.accepted, args.converge)
    finally:
        services.stop()
        if not args.keep:
            await services.drop()
    print_report(outcome, results)
    return 0 if all(r.ok for r in results) and not outcome.problems else 1


def run() -> None:
    sys.exit(asyncio.run(main(parse_args(sys.argv[1:]))))


if __name__ == "__main__":
    run()
