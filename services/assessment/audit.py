"""The audit of one trainee (``GET /trainees/{id}/audit``) and of every trainee (the CLI sweep).

It reads only the service's own storage (R-22, architecture "Decisions are pure and
replayable"): the trainee's assessment streams and the upstream events kept in the inbox. It
shows them in the order assessment learnt them, re-derives every grade decision
(``domain/replay.py``), checks the hash chain of each of the trainee's streams and the hash of
each upstream event kept in the inbox. An assessment event edited in place so shows twice: as
content that no longer matches its hash, and as a decision that no longer re-derives.

Personal fields (docs/privacy.md) play no part in it: the facts are re-derived from the clear
fields of the upstream events (a certificate count, not the sealed names), so an erased trainee's
grades re-derive as before. Only the timeline people read shows them revealed, or erased.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import pydantic

from shared.events import Envelope, Event, JsonDict, UnknownEventType
from shared.eventstore import EventStore
from shared.personal import PersonalData
from shared.policy import PolicyBook
from shared.policy_store import stored_book

from .domain.events import GradeDisputeResolved, TraineeFacts, registry
from .domain.replay import Derivation, rederive
from .domain.trainee_record import TraineeRecord, evolve_record
from .history import DECISIONS, every_trainee, tampered_inbox, trainee_events, trainee_inbox
from .policies import GRADING_POLICY
from .policy.grading import GradingPolicy

Received = list[tuple[datetime, Envelope]]


async def audit_trainee(
    pool: asyncpg.Pool,
    store: EventStore,
    trainee_id: str,
    grading: PolicyBook[GradingPolicy] | None = None,
    personal: PersonalData | None = None,
) -> JsonDict | None:
    """The report, or None when the service never heard of the trainee. ``grading``: the app's
    book, where every version a decision recorded is found (None: read from ``store``);
    ``personal``: reveals the timeline's personal fields (None: the store's, if it has one;
    without, they are shown as stored)."""
    own = await trainee_events(pool, trainee_id)
    inbox = await trainee_inbox(pool, trainee_id)
    if not own and not inbox:
        return None
    decoded, differences = _decode(own)
    book = grading if grading is not None else await stored_book(store, GRADING_POLICY)
    derivations = _derivations(own, decoded, inbox, book)
    for derivation in derivations:
        differences.extend(_derivation_differences(derivation))
    differences.extend(await _tampering(pool, store, trainee_id, own))
    return {
        "trainee_id": trainee_id,
        "consistent": not differences,
        "events": await _revealed_timeline(
            own, inbox, personal or getattr(store, "personal", None)
        ),
        "derivations": [_derivation_json(d) for d in derivations],
        "differences": differences,
    }


async def audit_all(pool: asyncpg.Pool, store: EventStore) -> list[JsonDict]:
    """Every trainee's report (for ``ops/cli.py``): one sweep, one trainee at a time."""
    reports = []
    grading = await stored_book(store, GRADING_POLICY)
    for trainee_id in await every_trainee(pool):
        report = await audit_trainee(pool, store, trainee_id, grading)
        if report is not None:
            reports.append(report)
    return reports


async def _tampering(
    pool: asyncpg.Pool, store: EventStore, trainee_id: str, own: Sequence[Envelope]
) -> list[JsonDict]:
    """Stored events whose content no longer matches their hash: the trainee's own streams
    (content and chain) and the upstream events kept in the inbox (content)."""
    found = []
    streams = list(dict.fromkeys(e.stream_id for e in own))
    for broken in await store.verify(streams) if streams else []:  # one query for them all
        found.append(
            {
                "kind": "tampering",
                "service": store.service,
                "stream_id": broken.stream_id,
                "version": broken.version,
                "field": "hash",
                "detail": broken.problem,
            }
        )
    for service, stream, version, event_id in await tampered_inbox(pool, trainee_id):
        found.append(
            {
                "kind": "tampering",
                "service": service,
                "stream_id": stream,
                "version": version,
                "event_id": event_id,
                "field": "hash",
                "detail": "inbox copy does not match the hash its producer recorded",
            }
        )
    return found


def _decode(own: Sequence[Envelope]) -> tuple[dict[uuid.UUID, Event], list[JsonDict]]:
    decoded: dict[uuid.UUID, Event] = {}
    problems: list[JsonDict] = []
    for envelope in own:
        try:
            decoded[envelope.event_id] = registry.decode(envelope)
        except (pydantic.ValidationError, UnknownEventType) as exc:
            problems.append(
                {
                    "kind": "undecodable",
                    "event_id": str(envelope.event_id),
                    "stream_id": envelope.stream_id,
                    "version": envelope.version,
                    "field": "data",
                    "detail": str(exc).splitlines()[0],
                }
            )
    return decoded, problems


def _derivations(
    own: Sequence[Envelope],
    decoded: dict[uuid.UUID, Event],
    inbox: Received,
    grading: PolicyBook[GradingPolicy],
) -> list[Derivation]:
    resolutions = {e.dispute_id: e for e in decoded.values() if isinstance(e, GradeDisputeResolved)}
    found: list[Derivation] = []
    for stream in dict.fromkeys(e.stream_id for e in own if e.stream_id.startswith("assessment-")):
        sitting = [e for e in own if e.stream_id == stream and e.event_id in decoded]
        facts = {
            e.event_id: _facts_known(inbox, e.recorded_at) for e in sitting if e.type in DECISIONS
        }
        events = [(e.event_id, decoded[e.event_id]) for e in sitting]
        found.extend(rederive(events, resolutions, facts, grading))
    return found


def _facts_known(inbox: Received, moment: datetime) -> TraineeFacts | None:
    """The trainee's facts from the upstream events received by ``moment``."""
    record = TraineeRecord()
    for received_at, envelope in inbox:
        if received_at <= moment:
            record = evolve_record(record, envelope.type, envelope.data)
    try:
        return record.facts()
    except ValueError:  # an education name this service does not know
        return None


def _derivation_differences(d: Derivation) -> list[JsonDict]:
    base = {"kind": "derivation", "event_id": str(d.event_id)}
    if d.problem is not None or d.rederived is None:
        return [{**base, "field": None, "detail": d.problem}]
    recorded = {"type": d.recorded.event_type, **d.recorded.model_dump(mode="json")}
    rederived = {"type": d.rederived.event_type, **d.rederived.model_dump(mode="json")}
    return [
        {**base, "field": name, "recorded": recorded.get(name), "rederived": rederived.get(name)}
        for name in d.differences
    ]


def _summary(decision: Any) -> JsonDict | None:
    if decision is None:
        return None
    data = decision.model_dump(mode="json", exclude={"rule_trace"})
    return {"type": decision.event_type, **data}


def _derivation_json(d: Derivation) -> JsonDict:
    return {
        "event_id": str(d.event_id),
        "type": d.recorded.event_type,
        "policy_version": d.recorded.policy_version,
        "recorded": _summary(d.recorded),
        "rederived": _summary(d.rederived),
        "rule_trace": d.rederived.rule_trace if d.rederived else [],
        "consistent": d.consistent,
        "differences": d.differences,
        "problem": d.problem,
    }


async def _revealed_timeline(
    own: Sequence[Envelope], inbox: Received, personal: PersonalData | None
) -> list[JsonDict]:
    if personal is None:
        return _timeline(own, inbox)
    shown = await personal.reveal([*own, *(e for _, e in inbox)])
    received = [(at, e) for (at, _), e in zip(inbox, shown[len(own) :], strict=True)]
    return _timeline(shown[: len(own)], received)


def _timeline(own: Sequence[Envelope], inbox: Received) -> list[JsonDict]:
    """Own events by when they were recorded, upstream ones by when assessment received them."""
    entries = [(e.recorded_at, 0, e.position, _event_json(e)) for e in own]
    entries += [(received, 1, n, _event_json(e, received)) for n, (received, e) in enumerate(inbox)]
    return [entry for *_, entry in sorted(entries, key=lambda x: x[:3])]


def _event_json(e: Envelope, received_at: datetime | None = None) -> JsonDict:
    return {
        "service": e.service,
        "type": e.type,
        "occurred_at": e.occurred_at,
        "actor": {"sub": e.actor.sub, "role": e.actor.role},
        "data": e.data,
        "event_id": str(e.event_id),
        "stream_id": e.stream_id,
        "version": e.version,
        "branch_id": e.branch_id,
        "recorded_at": e.recorded_at,
        "received_at": received_at,
    }
