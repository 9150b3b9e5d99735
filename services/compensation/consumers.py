"""Upstream events in: what pay must know, and the pay rates that grades set (R-19, R-24 to R-33).

The handler runs inside the inbox transaction of :func:`shared.consumer.handle_once`, so every
effect here (a table row, a ``PayRateSet`` appended to ``employee-<id>``) commits with the inbox row
or not at all. It is a tolerant reader: it takes the fields it needs from ``envelope.data`` and
ignores the rest; events it has no use for still land in the inbox, replayable later.

Order of arrival: enrollment and assessment publish independently, and a dead letter re-driven
later arrives late, so a trainee's grade may come before its enrolment, and a correction before
the grade it corrects. A grade decision is therefore recorded first (``grade_decisions``) and
applied as soon as the employee's category is known: at once when it is, else when
``TraineeEnrolled`` arrives. Each decision's rate is read from its own event alone
(domain/decisions.py) and the rate in force on a day is decided over the set of them
(domain/in_force.py), so pay does not depend on the order they arrived in (R-23, R-32). Branch
fees and trainer fines are computed at payroll time from the tables kept here, so their inputs
(enrolment, disposition, training days, penalties) may arrive in any order.

Personal data (docs/privacy.md): the handler sees upstream events revealed (shared.inbox
``revealing``). The only personal value kept in these tables is a person's name, beside its id
in the views and exports (``known_employees.name``, ``staff.name``); on ``PersonalDataErased``
it is replaced with :data:`shared.personal.ERASED`, while every number pay is computed from stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import structlog

from shared import directory
from shared.db import Conn
from shared.erasure import ERASED_TYPE, erased_person
from shared.events import SYSTEM_ACTOR, Envelope
from shared.eventstore import TransactionEventStore
from shared.execution import Metadata, execute
from shared.inbox import SetwiseHandler, distinct_runs
from shared.personal import ERASED
from shared.policy_store import stored_book
from shared.topology import CONSUMERS

from .domain.account import PAY_ACCOUNT, account_stream
from .domain.decisions import GradeDecision, day_of, grade_decision
from .domain.events import registry
from .domain.vocabulary import Category, DispositionOutcome, Level, Position
from .policies import PAY_POLICY

SERVICE = "compensation"
# What this service binds, from the deployment's one topology table (producers declare it too).
BINDING_KEYS = CONSUMERS[SERVICE]

log = structlog.get_logger("gradeline.compensation.consumers")
Data = dict[str, Any]


async def handle(conn: Conn, envelope: Envelope) -> None:
    """Apply one upstream event (the inbox row is written by the caller, in this transaction);
    the organisation's go to the branches and staff tables (shared.directory)."""
    if await directory.apply_organisation_event(conn, envelope):
        return
    handler = _HANDLERS.get((envelope.service, envelope.type))
    if handler is not None:
        await handler(conn, envelope)


# An erased name stays erased: an enrolment re-driven late, from before enrollment sealed names,
# would otherwise bring it back in clear.
_NAME = (
    f"CASE WHEN known_employees.name = '{ERASED}' THEN known_employees.name ELSE EXCLUDED.name END"
)


async def _enrolled(conn: Conn, envelope: Envelope) -> None:
    await _enrolled_many(conn, [envelope])


async def _enrolled_many(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """Enrolments, as one by one: the employees upserted in one statement per run of distinct
    trainees, then each one's waiting grade decisions (a grade that arrived before its
    enrolment: rare) turned into pay rates, in order."""
    for run in distinct_runs(envelopes, key=lambda e: e.data["trainee_id"]):
        ids = [e.data["trainee_id"] for e in run]
        await conn.execute(
            "INSERT INTO known_employees (employee_id, category, branch_id, name)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
            " ON CONFLICT (employee_id) DO UPDATE SET category = EXCLUDED.category,"
            " branch_id = EXCLUDED.branch_id, name = " + _NAME + ", updated_at = now()",
            ids,
            [e.data["category"] for e in run],
            [e.data["branch_id"] for e in run],
            [e.data.get("name") for e in run],
        )
        waiting = {
            row[0]
            for row in await conn.fetch(
                "SELECT DISTINCT employee_id FROM grade_decisions"
                " WHERE employee_id = ANY($1::text[]) AND applied_at IS NULL",
                ids,
            )
        }
        for envelope in run:
            if envelope.data["trainee_id"] in waiting:
                await _apply_pending(conn, envelope.data["trainee_id"], envelope)


async def _decided(conn: Conn, envelope: Envelope) -> None:
    """R-20/R-23/R-30/R-32: a grade, a correction or a worker's disposition sets the rate from
    the day it was made; which rate is in force when is decided over all of them at payroll
    time (domain/in_force.py), so the order they arrive in does not matter."""
    decision = grade_decision(envelope.type, envelope.data, envelope.event_id, envelope.occurred_at)
    if decision is not None:
        await _record_decision(conn, envelope, decision)


async def _disposed(conn: Conn, envelope: Envelope) -> None:
    """R-18/R-19: kept for the branch fees; reserve or workshop also ends any after-sales pay."""
    d = envelope.data
    outcome = DispositionOutcome(d["outcome"])
    await conn.execute(
        "INSERT INTO dispositions (event_id, trainee_id, outcome, decided_on)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id,
        d["trainee_id"],
        outcome.value,
        day_of(d["decided_on"]),
    )
    await _decided(conn, envelope)


async def _penalised(conn: Conn, envelope: Envelope) -> None:
    """R-24: kept until the payroll run of the month it was assessed in issues the fine (R-33).
    A session is held for a product series or for a training content: either may be absent."""
    d = envelope.data
    await conn.execute(
        "INSERT INTO trainer_penalties (event_id, trainer_id, session_id, product_series,"
        " failure_rate, fine, assessed_on, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id,
        d["trainer_id"],
        d["session_id"],
        d.get("product_series"),
        Decimal(str(d["failure_rate"])),
        Decimal(str(d["fine"])),
        day_of(d["assessed_on"]),
        d.get("content"),
    )


async def _erased(conn: Conn, envelope: Envelope) -> None:
    """The erased person's name reads as erased beside its id, as an employee and as staff."""
    person = erased_person(envelope)
    await conn.execute(
        "UPDATE known_employees SET name = $2, updated_at = now()"
        " WHERE employee_id = $1 AND name IS DISTINCT FROM $2",
        person,
        ERASED,
    )
    await conn.execute(
        "UPDATE staff SET name = $2, updated_at = now()"
        " WHERE staff_id = $1 AND name IS DISTINCT FROM $2",
        person,
        ERASED,
    )


async def _trained(conn: Conn, envelope: Envelope) -> None:
    """R-19 counts distinct dates, so a second day logged on one date adds nothing."""
    d = envelope.data
    await conn.execute(
        "INSERT INTO training_days (trainee_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        d["trainee_id"],
        day_of(d["date"]),
    )


_HANDLERS: dict[tuple[str, str], Callable[[Conn, Envelope], Awaitable[None]]] = {
    ("enrollment", "TraineeEnrolled"): _enrolled,
    ("enrollment", ERASED_TYPE): _erased,
    ("assessment", "GradeAssigned"): _decided,
    ("assessment", "AssessmentFailed"): _decided,
    ("assessment", "DispositionDecided"): _disposed,
    ("assessment", "TrainerPenaltyAssessed"): _penalised,
    ("training", "TrainingDayLogged"): _trained,
}


# What the consumer runs: enrolments (and registrations) arriving together are upserted together.
HANDLER = SetwiseHandler(
    handle, {("enrollment", "TraineeEnrolled"): _enrolled_many, **directory.RUNS}
)


async def _record_decision(conn: Conn, envelope: Envelope, decision: GradeDecision) -> None:
    await conn.execute(
        "INSERT INTO grade_decisions (event_id, employee_id, source, position, level,"
        " effective_from, supersedes, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (event_id) DO NOTHING",
        decision.event_id,
        decision.employee_id,
        envelope.type,
        decision.position.value,
        None if decision.level is None else decision.level.value,
        decision.decided_on,
        decision.supersedes,
        decision.decided_at,
    )
    await _apply_pending(conn, decision.employee_id, envelope)


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
        log.warning(
            "compensation.unknown_category", employee_id=employee_id, category=employee["category"]
        )
        return  # kept waiting: a newer reader may know the category
    pending = await conn.fetch(
        "SELECT event_id, position, level, effective_from, decided_at, supersedes"
        " FROM grade_decisions"
        " WHERE employee_id = $1 AND applied_at IS NULL ORDER BY seq",
        employee_id,
    )
    meta = Metadata(
        actor=SYSTEM_ACTOR,
        branch_id=employee["branch_id"],
        correlation_id=cause.correlation_id,
        causation_id=cause.event_id,
    )
    for row in pending:
        await _set_rate(conn, employee_id, category, row, meta)
    await conn.execute(
        "UPDATE grade_decisions SET applied_at = now() WHERE event_id = ANY($1::uuid[])",
        [row["event_id"] for row in pending],
    )


async def _set_rate(
    conn: Conn, employee_id: str, category: Category, row: Any, meta: Metadata
) -> None:
    """PayRateSet from one grade decision, in this transaction. The decider sets none for
    branch-commissioned staff (R-31) and none twice for one grade event."""
    decision = GradeDecision(
        row["event_id"],
        employee_id,
        Position(row["position"]),
        None if row["level"] is None else Level(row["level"]),
        row["effective_from"],
        row["decided_at"],
        row["supersedes"],
    )
    store = TransactionEventStore(conn, SERVICE)
    pay = await stored_book(store, PAY_POLICY)  # a version published a moment ago included
    await execute(
        store,
        registry,
        PAY_ACCOUNT,
        account_stream(employee_id),
        replace(decision.command(category), pay=pay),
        meta,
        conn=conn,
    )
