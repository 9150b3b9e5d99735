"""The scheduled purge's runs: recorded in the service's database, reported by its ``/metrics``.

``gradeline purge SERVICE`` (a CronJob, deploy/k8s/housekeeping.yaml) is a short-lived process
that no Prometheus scrapes; each of its runs adds to the row of each table it purged in
``housekeeping_runs``, and every service process reads those rows before a scrape
(:func:`refresher`): ``gradeline_purged_rows_total``, ``gradeline_purge_runs_total`` and the
last run's and last success's time, per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.metrics import Metrics, Refresher

TARGETS = ("http_idempotency", "inbox")

_RECORD = """
INSERT INTO housekeeping_runs AS h (target, runs, failures, purged, last_run_at,
                                    last_success_at, mark)
VALUES ($1, 1, CASE WHEN $2 THEN 1 ELSE 0 END, $3, now(),
        CASE WHEN $2 THEN NULL ELSE now() END, coalesce($4, 0))
ON CONFLICT (target) DO UPDATE SET
    runs = h.runs + 1,
    failures = h.failures + EXCLUDED.failures,
    purged = h.purged + EXCLUDED.purged,
    last_run_at = EXCLUDED.last_run_at,
    last_success_at = coalesce(EXCLUDED.last_success_at, h.last_success_at),
    mark = CASE WHEN $4::bigint IS NULL THEN h.mark ELSE greatest(h.mark, $4) END
"""


@dataclass(frozen=True)
class PurgeRuns:
    target: str
    runs: int
    failures: int
    purged: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    mark: int


async def record_run(
    pool: asyncpg.Pool,
    target: str,
    purged: int = 0,
    *,
    mark: int | None = None,
    failed: bool = False,
) -> None:
    """One run of the purge of ``target``: its rows purged, and for the inbox the new mark."""
    await pool.execute(_RECORD, target, failed, purged, mark)


async def purge_runs(pool: asyncpg.Pool) -> dict[str, PurgeRuns]:
    rows = await pool.fetch("SELECT * FROM housekeeping_runs")
    return {r["target"]: PurgeRuns(**dict(r)) for r in rows}


async def mark(pool: asyncpg.Pool, target: str) -> int:
    """Where the previous run of ``target``'s purge stopped looking (0: from the start)."""
    return int(
        await pool.fetchval("SELECT mark FROM housekeeping_runs WHERE target = $1", target) or 0
    )


def refresher(pool: asyncpg.Pool, metrics: Metrics) -> Refresher:
    """Sets the purge metrics from ``housekeeping_runs`` before every scrape."""

    async def refresh() -> None:
        for runs in (await purge_runs(pool)).values():
            metrics.report_purge(
                runs.target,
                runs.purged,
                ok=runs.runs - runs.failures,
                failed=runs.failures,
                last_run=runs.last_run_at,
                last_success=runs.last_success_at,
            )

    return refresh
