"""Policies as events: each policy a stream ``policy-<name>`` of :class:`PolicyPublished` in the
store of the service that applies it, and the books a running app decides with.

- :class:`PolicyRegistration`: what a service declares per policy (name, the book of versions it
  ships, who may publish). One line per policy in the service's ``policies.py``.
- :func:`seed`: the shipped versions become the stream's first events on start, once, whatever
  the number of replicas starting together (deterministic event ids; a concurrent append of the
  same events is a duplicate, not a second copy).
- :class:`PolicyShelf`: the app's books (``app.state.policies``), never a module global: apps of
  different namespaces in one process never see each other's publications. Every lookup first
  reads the stream's events after the version the shelf holds (one batched index probe, usually
  empty), so a version another replica published is used by the next decision here
  (docs/adr/0016-policies-as-events-read-before-deciding.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.auth import Role
from shared.decider import Conflict, Decider, InvalidCommand
from shared.events import SYSTEM_ACTOR, Event
from shared.eventstore import ConcurrencyError, EventStore
from shared.execution import Metadata
from shared.policy import PolicyBook, PolicyVersion
from shared.policy_events import PolicyPublished

# Which service applies (and so serves) each policy: a name another service serves is a 404
# saying which.
SERVED_BY = {
    "placement": "enrollment",
    "retention": "enrollment",
    "plan_content": "training",
    "grading": "assessment",
    "fines": "assessment",
    "fees": "compensation",
    "pay": "compensation",
}


@dataclass(frozen=True)
class PolicyRegistration:
    """A policy a service applies: its name, the versions it ships (the seed; its model gives
    the fields and :meth:`~shared.policy.PolicyVersion.problems` the semantic checks), and the
    roles that may publish a version."""

    name: str
    shipped: PolicyBook[Any]
    publishers: tuple[str, ...] = (Role.EXEC_VP,)

    @property
    def model(self) -> type[PolicyVersion]:
        return self.shipped.model

    @property
    def stream_id(self) -> str:
        return f"policy-{self.name}"


def registration(name: str, shipped: PolicyBook[Any], *publishers: str) -> PolicyRegistration:
    """``registration("placement", PLACEMENT)``: exec_vp publishes unless ``publishers`` say."""
    if name not in SERVED_BY:
        raise ValueError(f"unknown policy {name!r}: add it to SERVED_BY first")
    return PolicyRegistration(name, shipped, tuple(publishers) or (Role.EXEC_VP,))


def document_of(version: PolicyVersion) -> dict[str, Any]:
    return version.model_dump(mode="json", exclude={"version", "effective_from"})


def version_of(registration: PolicyRegistration, event: PolicyPublished) -> PolicyVersion:
    """The stored version as its model; checked when published, so not again (a version
    accepted once stays readable if a later release tightens the checks)."""
    raw = {**event.document, "version": event.version, "effective_from": event.effective_from}
    return registration.model.model_validate(raw, context={"semantic": False})


# --- the stream's decider: publishing ------------------------------------------------------------


@dataclass(frozen=True)
class PublishPolicy:
    name: str
    version: PolicyVersion
    published_by: str
    today: date
    reserved: frozenset[str] = frozenset()  # names the book resolves already (aliases)
    seeding: bool = False  # the shipped versions: any date, no check of today


@dataclass(frozen=True)
class PolicyStream:
    published: tuple[tuple[str, date], ...] = ()  # (version, effective_from), in order


def _evolve(state: PolicyStream, event: Event) -> PolicyStream:
    if isinstance(event, PolicyPublished):
        return PolicyStream((*state.published, (event.version, event.effective_from)))
    return state


def _decide(command: PublishPolicy, state: PolicyStream) -> list[Event]:
    new = command.version
    names = {v for v, _ in state.published} | command.reserved
    if new.version in names:
        if command.seeding:
            return []
        raise Conflict(f"policy {command.name} already has a version {new.version}")
    if not command.seeding:
        for problem in publication_problems(new.effective_from, command.today, state):
            raise InvalidCommand("effective_from", problem)
    event = PolicyPublished(
        name=command.name,
        version=new.version,
        effective_from=new.effective_from,
        document=document_of(new),
        published_by=command.published_by,
    )
    return [event]


def publication_problems(effective_from: date, today: date, state: PolicyStream) -> list[str]:
    """A version takes effect today or later (a decision already taken is never re-decided
    under it), and not on the day another version does (which would be in force is a guess)."""
    found = []
    if effective_from < today:
        found.append(f"{effective_from} is before today ({today}): a version cannot start earlier")
    taken = [v for v, on in state.published if on == effective_from]
    if taken:
        found.append(f"version {taken[0]} takes effect on {effective_from} already")
    return found


POLICY_STREAM: Decider[PublishPolicy, PolicyStream] = Decider(PolicyStream, _evolve, _decide)


# --- the app's books -----------------------------------------------------------------------------


@dataclass
class PolicyShelf:
    """The books of one app, each with the stream version it was read up to."""

    store: EventStore
    registrations: dict[str, PolicyRegistration]
    books: dict[str, PolicyBook[Any]] = field(default_factory=dict)
    read_up_to: dict[str, int] = field(default_factory=dict)

    def registered(self, name: str) -> PolicyRegistration:
        return self.registrations[name]

    async def book(self, name: str) -> PolicyBook[Any]:
        """The book of ``name`` with every version published so far (read before answering)."""
        reg = self.registrations[name]
        after = self.read_up_to.get(name, 0)
        envelopes = await self.store.read_stream(reg.stream_id, after_version=after)
        book = self.books.get(name, reg.shipped)
        if envelopes:
            published = [
                version_of(reg, PolicyPublished.model_validate(e.data))
                for e in envelopes
                if e.type == PolicyPublished.event_type
            ]
            book = _extended(book, reg, published)
            self.books[name], self.read_up_to[name] = book, envelopes[-1].version
        return book

    async def in_force(self, name: str, on: date) -> Any:
        """The version of ``name`` in force on ``on``: what a handler puts in its command."""
        return (await self.book(name)).in_force(on)

    async def named(self, name: str, version: str) -> Any:
        """The version a decision recorded (an alias of a split policy included): for audits."""
        return (await self.book(name)).named(version)


def _extended(
    book: PolicyBook[Any], reg: PolicyRegistration, published: Sequence[PolicyVersion]
) -> PolicyBook[Any]:
    # The shipped versions stay in the book whatever the stream holds: they are its first
    # events once seeded, and an app started before seeding finished still knows them.
    return PolicyBook(
        [*reg.shipped.versions, *(v for v in book.versions if v not in reg.shipped.versions)],
        model=reg.model,
        aliases=reg.shipped.aliases,
    ).with_versions(published)


async def seed(shelf: PolicyShelf, aggregates: Any) -> None:
    """Publish each shipped version the stream lacks, as the system. Replicas starting together
    append under one idempotency key per version, and whoever comes second finds the stream
    holding it (a replay, or a conflict re-decided to nothing): never a second copy."""
    for reg in shelf.registrations.values():
        for version in reg.shipped.versions:
            await _seed_one(reg, version, aggregates)


async def _seed_one(reg: PolicyRegistration, version: PolicyVersion, aggregates: Any) -> None:
    command = PublishPolicy(reg.name, version, "system", version.effective_from, seeding=True)
    key = f"seed:{reg.stream_id}:{version.version}"
    meta = Metadata(SYSTEM_ACTOR, idempotency_key=key)
    with suppress(ConcurrencyError):  # replicas seeding together: five conflicts in a row
        await aggregates.execute(POLICY_STREAM, reg.stream_id, command, meta)


async def stored_book(store: EventStore, reg: PolicyRegistration) -> PolicyBook[Any]:
    """The book of ``reg`` as ``store`` holds it, outside an app (the CLI's audits)."""
    return await PolicyShelf(store, {reg.name: reg}).book(reg.name)


def shelf_of(state: Any) -> PolicyShelf:
    """The app's :class:`PolicyShelf` (``app.state.policies``), from a route's app state."""
    shelf: PolicyShelf = state.policies
    return shelf


def names_served(registrations: Iterable[PolicyRegistration]) -> list[str]:
    return [r.name for r in registrations]
