"""The load tool, small: eight offices post a whole training round over HTTP to the four service
processes, with retries and duplicate sends, and every proof of issue 7 holds afterwards."""

from __future__ import annotations

import pytest

from bench.load.cluster import Cluster
from bench.load.run import describe
from tests.load.harness import config, failures, load_and_check

pytestmark = pytest.mark.timeout(120)


async def test_eight_offices_with_duplicates_lose_nothing_and_duplicate_nothing(
    services: Cluster,
) -> None:
    """Every accepted command's events stored once (idempotency), every upstream event in each
    inbox once, every projection equal to its rebuild, every grade re-derived (R-22) and every
    payslip equal to its recomputation (R-25 to R-32)."""
    outcome, results = await load_and_check(services, config(seed=101, trainees=14))

    assert failures(outcome, results) == []
    assert [r.name for r in results] == [
        "converged",
        "exactly_once",
        "inbox",
        "projections",
        "audit",
        "payslips",
        "alive",
    ]
    facts = describe(outcome)
    assert facts["duplicates_sent"] > 0  # the duplicates were really sent
    assert facts["accepted_writes"] > 14 * 20  # a whole round: enrol to payroll
    assert set(facts["per_service"]) == {"enrollment", "training", "assessment", "compensation"}
    assert not any(status >= 500 for status in facts["statuses"])


async def test_the_same_load_again_is_answered_from_stored_responses(services: Cluster) -> None:
    """A whole round sent twice with the same keys: the second time every write is a replay and
    appends nothing (the payroll rerun issues nothing new, R-32), and the proofs still hold."""
    first, _ = await load_and_check(services, config(seed=102, trainees=5, duplicates=0.0))
    again, results = await load_and_check(services, config(seed=102, trainees=5, duplicates=0.0))

    assert failures(again, results) == []
    assert again.stats.writes == again.stats.replayed > 0
    assert first.stats.replayed < first.stats.writes
    assert again.seconds < first.seconds  # nothing to wait for: no event travels again
