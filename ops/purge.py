"""``gradeline purge SERVICE``: the scheduled housekeeping of one service's database.

- stored ``Idempotency-Key`` answers older than ``GRADELINE_IDEMPOTENCY_RETENTION`` are deleted
  (what every service process also does every hour, shared/idempotency.py);
- in a consuming service, the payload of each received upstream event older than
  ``GRADELINE_INBOX_RETENTION`` is emptied when nothing reads its type from the inbox again
  (:func:`inbox_retention`); its row stays, so the dedup and the version order hold (ADR 0020).

Each run is recorded per table in ``housekeeping_runs`` (shared/housekeeping.py), which every
service process reports in ``/metrics``. deploy/k8s/housekeeping.yaml runs it as CronJobs.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
import typer
from rich.console import Console

from ops import services
from shared import db, housekeeping
from shared.idempotency import purge_expired_answers
from shared.inbox import InboxRetention, purge_inbox_payloads
from shared.settings import Settings

# The audit (services/<name>/audit.py) replays every upstream event about its subject.
AUDIT_SUBJECT_FIELD = "trainee_id"


def inbox_retention(info: services.ServiceInfo) -> InboxRetention:
    """What ``info``'s inbox must keep in full: every type a projection reading the inbox
    replays on a rebuild (all of them when one takes every type), and, in a service with a
    replay audit, every event about a trainee."""
    read: set[str] = set()
    for projection in info.projections:
        if "inbox" not in projection.sources:
            continue
        if projection.types is None:
            return InboxRetention(read_types=None)
        read |= projection.types
    subject = AUDIT_SUBJECT_FIELD if info.audit is not None else None
    return InboxRetention(read_types=frozenset(read), subject_field=subject)


@dataclass(frozen=True)
class Purged:
    answers: int
    inbox_payloads: int
    inbox_mark: int  # the inbox seq up to which rows have been looked at


async def purge(
    pool: asyncpg.Pool, info: services.ServiceInfo, settings: Settings, now: datetime | None = None
) -> Purged:
    """One run on ``info``'s database: answers, then inbox payloads, each recorded (a failure
    too, then raised)."""
    now = now or datetime.now(UTC)
    try:
        answers = await purge_expired_answers(pool, settings.idempotency_retention)
    except (asyncpg.PostgresError, OSError):
        await housekeeping.record_run(pool, "http_idempotency", failed=True)
        raise
    await housekeeping.record_run(pool, "http_idempotency", answers)
    if not info.consumes:
        return Purged(answers, 0, 0)
    retention = inbox_retention(info)
    after = await housekeeping.mark(pool, "inbox")
    try:
        emptied, through = await purge_inbox_payloads(
            pool, retention, now - settings.inbox_retention, after
        )
    except (asyncpg.PostgresError, OSError):
        await housekeeping.record_run(pool, "inbox", failed=True)
        raise
    await housekeeping.record_run(pool, "inbox", emptied, mark=through)
    return Purged(answers, emptied, through)


OPERATOR_COMMAND_SECONDS = 3600.0  # a first run may empty millions of payloads


async def purge_service(settings: Settings, info: services.ServiceInfo) -> Purged:
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(info.name))
    liveness = dataclasses.replace(settings.db_liveness(), command_timeout=OPERATOR_COMMAND_SECONDS)
    pool = await db.create_pool(dsn, size=1, liveness=liveness)
    try:
        return await purge(pool, info, settings)
    finally:
        await pool.close()


def purge_command(
    service: Annotated[str, typer.Argument(help="the service whose database to purge")],
) -> None:
    """Purge what is past its retention: stored Idempotency-Key answers, and the payloads of
    received events that nothing reads again (their rows stay: ADR 0020)."""
    try:
        info = services.get(service)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="SERVICE") from None
    settings = Settings()
    console = Console()
    try:
        done = asyncio.run(purge_service(settings, info))
    except (asyncpg.PostgresError, OSError) as exc:
        console.print(f"[red]purge of {service} failed: {exc!r}")
        raise typer.Exit(1) from None
    console.print(
        f"{service}: purged {done.answers} stored answers older than"
        f" {settings.idempotency_retention}; emptied {done.inbox_payloads} inbox payloads older"
        f" than {settings.inbox_retention} (looked at up to seq {done.inbox_mark})"
    )
