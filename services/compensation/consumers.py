"""Upstream events in: what pay must know, and the pay rates that grades set (R-19, R-24 to R-33).

The handler runs inside the inbox transaction of :func:`shared.consumer.handle_once`, so every
effect here (a table row, a ``PayRateSet`` appended to ``employee-<id>``) commits with the inbox row
or not at all. It is a tolerant reader: it takes the fields it needs from ``envelope.data`` and
ignores the rest; events it has no use for still land in the inbox, replayable later.

Order of arrival: enrollment and assessment publish independently, and a dead letter re-driven
later arrives late, so a trainee's grade may come before its enrolment. A grade decision is
therefore recorded first (``grade_decisions``) and applied as soon as the employee's category is
known: at once when it is, else when ``TraineeEnrolled`` arrives, in the order the decisions
arrived. Branch fees and trainer fines are computed at payroll time from the tables kept here, so
their inputs (enrolment, disposition, training days, penalties) may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from shared.db import Conn
from shared.decider import Metadata, execute
from shared.events import SYSTEM_ACTOR, Envelope
from shared.eventstore import TransactionEventStore
from shared.inbox import SetwiseHandler, distinct_runs
from shared.topology import CONSUMERS

from .domain.account import PAY_ACCOUNT, account_stream
from .domain.commands import ApplyGrade
from .domain.events import registry
from .domain.vocabulary import Category, DispositionOutcome, Level, Position

SERVICE = "compensation"
# What this service binds, from the deployment's one topology table (producers declare it too).
BINDING_KEYS = CONSUMERS[SERVICE]
# a failed trainee kept in reserve or sent to the workshop gets worker's treatment.
WORKER_OUTCOMES = frozenset({DispositionOutcome.RESERVE, DispositionOutcome.WORKSHOP})

log = structlog.get_logger("gradeline.compensation.consumers")
Data = dict[str, Any]


async def handle(conn: Conn, envelope: Envelope) -> None:
    """Apply one upstream event (the inbox row is written by the caller, in this transaction)."""
    handler = _HANDLERS.get((envelope.service, envelope.type))
    if handler is not None:
        await handler(conn, envelope)


async def _enrolled(conn: Conn, envelope: Envelope) -> None:
    await _enrolled_many(conn, [envelope])


async def _enrolled_many(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """Enrolments, as one by one: the employees upserted in one statement per run of distinct
    trainees, then each one's waiting grade decisions (a grade that arrived before its
    enrolment: rare) turned into pay rates, in order."""
    for run in distinct_runs(envelopes, key=lambda e: e.data["trainee_id"]):
        ids = [e.data["trainee_id"] for e in run]
        await conn.execute(
            "INSERT INTO known_employees (employee_id, category, branch_id)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
            " ON CONFLICT (employee_id) DO UPDATE SET category = EXCLUDED.category,"
            " branch_id = EXCLUDED.branch_id, updated_at = now()",
            ids, [e.data["category"] for e in run], [e.data["branch_id"] for e in run],
        )  # fmt: skip
        waiting = {row[0] for row in await conn.fetch(
            "SELECT DISTINCT employee_id FROM grade_decisions"
            " WHERE employee_id = ANY($1::text[]) AND applied_at IS NULL", ids,
        )}  # fmt: skip
        for envelope in run:
            if envelope.data["trainee_id"] in waiting:
                await _apply_pending(conn, envelope.data["trainee_id"], envelope)


async def _graded(conn: Conn, envelope: Envelope) -> None:
    """R-20/R-32: the grade sets the rate from the day it was assigned. A trainee who passed
    without any position's eligibility has no grade (R-21): the reserve position."""
    d = envelope.data
    position = Position(d["position"]) if d.get("position") else Position.RESERVE
    level = Level(d["level"]) if d.get("level") and position is not Position.RESERVE else None
    since = await _effective_from(conn, _day(d["assigned_at"]), d.get("supersedes"))
    await _record_decision(conn, envelope, position, level, since, d.get("supersedes"))


async def _effective_from(conn: Conn, assigned_on: date, supersedes: str | None) -> date:
    """R-23 with R-32 (policy decision): a correction replaces the disputed grade, so it takes
    effect from the day the disputed grade did; months already paid get corrected payslips
    (R-32) when payroll runs again. A grade that corrects nothing starts on its own day."""
    if supersedes is None:
        return assigned_on
    replaced = await conn.fetchval(
        "SELECT effective_from FROM grade_decisions WHERE event_id = $1", UUID(str(supersedes))
    )
    return replaced if replaced is not None else assigned_on


async def _failed(conn: Conn, envelope: Envelope) -> None:
    """R-23: a correction that turns a grade into a failure takes the grade away. A first failure
    had no grade to take: its disposition decides what follows."""
    d = envelope.data
    if d.get("supersedes") is None:
        return
    since = await _effective_from(conn, _day(d["assessed_at"]), d["supersedes"])
    await _record_decision(conn, envelope, Position.RESERVE, None, since, d["supersedes"])


async def _disposed(conn: Conn, envelope: Envelope) -> None:
    """R-18/R-19: kept for the branch fees; reserve or workshop also ends any after-sales pay."""
    d = envelope.data
    outcome = DispositionOutcome(d["outcome"])
    decided_on = _day(d["decided_on"])
    await conn.execute(
        "INSERT INTO dispositions (event_id, trainee_id, outcome, decided_on)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id, d["trainee_id"], outcome.value, decided_on,
    )  # fmt: skip
    if outcome in WORKER_OUTCOMES:
        await _record_decision(conn, envelope, Position.RESERVE, None, decided_on, None)


async def _penalised(conn: Conn, envelope: Envelope) -> None:
    """R-24: kept until the payroll run of the month it was assessed in issues the fine (R-33)."""
    d = envelope.data
    await conn.execute(
        "INSERT INTO trainer_penalties (event_id, trainer_id, session_id, product_series,"
        " failure_rate, fine, assessed_on) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id, d["trainer_id"], d["session_id"], d["product_series"],
        Decimal(str(d["failure_rate"])), Decimal(str(d["fine"])), _day(d["assessed_on"]),
    )  # fmt: skip


async def _trained(conn: Conn, envelope: Envelope) -> None:
    """R-19 counts distinct dates, so a second day logged on one date adds nothing."""
    d = envelope.data
    await conn.execute(
        "INSERT INTO training_days (trainee_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        d["trainee_id"],
        _day(d["date"]),
    )


_HANDLERS: dict[tuple[str, str], Callable[[Conn, Envelope], Awaitable[None]]] = {
    ("enrollment", "TraineeEnrolled"): _enrolled,
    ("assessment", "GradeAssigned"): _graded,
    ("assessment", "AssessmentFailed"): _failed,
    ("assessment", "DispositionDecided"): _disposed,
    ("assessment", "TrainerPenaltyAssessed"): _penalised,
    ("training", "TrainingDayLogged"): _trained,
}


# What the consumer runs: enrolments arriving together are upserted together.
HANDLER = SetwiseHandler(handle, {("enrollment", "TraineeEnrolled"): _enrolled_many})


async def _record_decision(
    conn: Conn,
    envelope: Envelope,
    position: Position,
    level: Level | None,
    effective_from: date,
    supersedes: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO grade_decisions (event_id, employee_id, source, position, level,"
        " effective_from, supersedes) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id, envelope.data["trainee_id"], envelope.type, position.value,
        None if level is None else level.value, effective_from,
        None if supersedes is None else UUID(str(supersedes)),
    )  # fmt: skip
    await _apply_pending(conn, envelope.data["trainee_id"], envelope)


async def _apply_pending(conn: Conn, employee_id: str, cause: Envelope) -> None:
    """Turn the employee's waiting grade decisions into pay rates, once its category is known."""
    employee = await conn.fetchrow(
        "SELECT category, branch_id FROM known_employees WHERE employee_id = $1", employee_id
    )
    if employee is None:
        return  # applied when the enrolment arrives
    try:
        category = Category(employee["category"])
    except ValueError:
        log.warning("compensation.unknown_category", employee_id=employee_id,
                    category=employee["category"])  # fmt: skip
        return  # kept waiting: a newer reader may know the category
    pending = await conn.fetch(
        "SELECT event_id, position, level, effective_from FROM grade_decisions"
        " WHERE employee_id = $1 AND applied_at IS NULL ORDER BY seq",
        employee_id,
    )
    meta = Metadata(
        actor=SYSTEM_ACTOR, branch_id=employee["branch_id"],
        correlation_id=cause.correlation_id, causation_id=cause.event_id,
    )  # fmt: skip
    for row in pending:
        await _set_rate(conn, employee_id, category, row, meta)
    await conn.execute(
        "UPDATE grade_decisions SET applied_at = now() WHERE event_id = ANY($1::uuid[])",
        [row["event_id"] for row in pending],
    )


async def _set_rate(
    conn: Conn, employee_id: str, category: Category, decision: Any, meta: Metadata
) -> None:
    """PayRateSet from one grade decision, in this transaction. The decider sets none for
    branch-commissioned staff (R-31) and none twice for one grade event."""
    level = None if decision["level"] is None else Level(decision["level"])
    command = ApplyGrade(
        employee_id, category, Position(decision["position"]), level,
        decision["effective_from"], decision["event_id"],
    )  # fmt: skip
    await execute(
        TransactionEventStore(conn, SERVICE), registry, PAY_ACCOUNT, account_stream(employee_id),
        command, meta,
        policy_version=lambda e: getattr(e, "policy_version", None), conn=conn,
    )  # fmt: skip


def _day(value: str) -> date:
    """A date, or the date of a timestamp (``assigned_at``): the day a grade takes effect."""
    return datetime.fromisoformat(value).date()
