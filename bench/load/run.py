"""The load: N branch offices post the demo's domain flow concurrently over HTTP.

The flows are the demo's (``ops.demo.Demo``: enrol, place, draft and approve plans, log and
confirm days, sign and countersign stages, send back, exams, grades, dispositions, disputes,
sessions closed with fines, pay inputs, the payroll run), checked as the demo checks them, and
sent as the demo sends them (``ops.client.Api``: transport errors and 5xx again under the same
``Idempotency-Key``), but over the lean client of ``bench.load.http``, with deliberate duplicate
sends. The scenario's trainees are dealt to ``offices`` concurrent office clients in turn; each
office works on a few trainees at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops import scenario as sc
from ops.client import Api, DemoError, Stats
from ops.demo import Demo, first_failure

from .http import Duplicates, LeanClient, Recorder

PER_OFFICE = 3  # trainees an office works on at once


@dataclass(frozen=True)
class LoadConfig:
    offices: int = 8
    trainees: int = 40
    seed: int = 11
    duplicates: Duplicates = field(default_factory=Duplicates)
    wait_seconds: float = 60.0  # one cross-service wait, or one write's retries, at most
    timeout: float = 10.0  # one request


@dataclass
class LoadOutcome:
    config: LoadConfig
    prefix: str
    month: str
    seconds: float
    recorder: Recorder
    stats: Stats
    problems: list[str]

    @property
    def throughput(self) -> float:
        return self.recorder.requests / self.seconds if self.seconds else 0.0


def deal(trainees: tuple[sc.Trainee, ...], offices: int) -> list[list[sc.Trainee]]:
    """Trainees to offices in turn, so that every office mixes branches and categories."""
    hands: list[list[sc.Trainee]] = [[] for _ in range(offices)]
    for index, trainee in enumerate(trainees):
        hands[index % offices].append(trainee)
    return [hand for hand in hands if hand]


async def office(demo: Demo, trainees: list[sc.Trainee]) -> None:
    limit = asyncio.Semaphore(PER_OFFICE)

    async def one(t: sc.Trainee) -> None:
        async with limit:
            await demo.trainee_round(t, None)

    async with asyncio.TaskGroup() as group:
        for t in trainees:
            group.create_task(one(t))


async def run_load(
    urls: Mapping[str, str], secret: str, config: LoadConfig, recorder: Recorder | None = None
) -> LoadOutcome:
    """Post one scenario (``config.seed``: another seed is another set of trainees, so several
    loads can go into one namespace) and return what was sent and seen. ``recorder`` lets a
    caller watch the load while it runs (the fault tests strike once it is well under way)."""
    recorder = recorder or Recorder()
    clients = {
        s: LeanClient(s, url, recorder, config.duplicates, timeout=config.timeout)
        for s, url in urls.items()
    }
    api = Api(clients, secret, config.wait_seconds)
    scenario = sc.build(config.seed, config.trainees, datetime.now(UTC).date())
    demo = Demo(api, scenario, None)
    started = time.monotonic()
    try:
        await demo.register_organisation()
        await demo.open_sessions()
        async with asyncio.TaskGroup() as group:
            for hand in deal(scenario.trainees, config.offices):
                group.create_task(office(demo, hand))
        closed_on = await demo.close_sessions()
        closed_on = max(closed_on, await demo.content_session())  # R-24 for a content
        month = closed_on.strftime("%Y-%m")
        # Not demo.board(): it expects this scenario's trainees alone on the board, and several
        # loads may share a namespace; the projection checks cover the board instead.
        await demo.pay_month(month)
    except ExceptionGroup as group:
        raise first_failure(group) from None
    finally:
        await api.close()
    problems = list(demo.problems) + recorder.duplicate_mismatches
    return LoadOutcome(
        config, scenario.prefix, month, time.monotonic() - started, recorder, api.stats, problems
    )


def describe(outcome: LoadOutcome) -> dict[str, Any]:
    """Throughput and latencies (ms) per service, for the report."""
    rec = outcome.recorder
    per_service = {}
    for service, values in sorted(rec.latencies_ms.items()):
        ordered = sorted(values)
        per_service[service] = {
            "requests": len(ordered),
            "p50": _quantile(ordered, 0.50),
            "p99": _quantile(ordered, 0.99),
            "max": ordered[-1] if ordered else 0.0,
        }
    return {
        "seconds": outcome.seconds,
        "requests": rec.requests,
        "throughput": outcome.throughput,
        "statuses": dict(sorted(rec.statuses.items())),
        "transport_errors": dict(rec.transport_errors),
        "duplicates_sent": rec.duplicates_sent,
        "accepted_writes": sum(len(v) for v in rec.accepted.values()),
        "per_service": per_service,
    }


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


__all__ = ["DemoError", "LoadConfig", "LoadOutcome", "deal", "describe", "run_load"]
