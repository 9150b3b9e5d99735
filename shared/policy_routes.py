"""The policy routes every service serves for the policies it applies (docs/policy.md):

- ``GET /policies/{name}``: the versions with their effective dates and the one in force
  (``?at=DATE``, today by default) with its document; any authenticated role;
- ``POST /policies/{name}``: publish ``{version, effective_from, document}`` (PolicyPublished),
  201 with the changes against the version it replaces; 422 listing every problem; 409 for a
  version name published before; the roles of the policy's registration;
- ``POST /policies/{name}/diff``: the same checks and changes, nothing stored.

A name another service applies is a 404 naming that service. Routes are made per registered
policy, so the role gate (shared.guard) refuses the wrong role before the body is read.
"""

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError

from shared.auth import CurrentPrincipal
from shared.commands import Write, document_command_headers, writer
from shared.decider import Conflict
from shared.events import EventRegistry
from shared.execution import app_aggregates
from shared.policy import PolicyBook, PolicyVersion
from shared.policy_diff import diff
from shared.policy_events import PolicyPublished
from shared.policy_store import (
    POLICY_STREAM,
    SERVED_BY,
    PolicyRegistration,
    PolicyShelf,
    PolicyStream,
    PublishPolicy,
    document_of,
    publication_problems,
    seed,
    shelf_of,
)
from shared.problems import PROBLEM_RESPONSES, not_found, validation_failed
from shared.requests import Now, RequestBody

VERSION_PATTERN = r"^[a-z_]+-[0-9A-Za-z.\-]{1,40}$"
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """Only ISO 8601 text: pydantic alone would also read ``0`` as a day of 1970."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_from_iso", "Input should be an ISO 8601 date")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]


class Draft(RequestBody):
    """A version to publish, or to compare with the one in force (unknown fields and text
    holding U+0000 refused, as in every body)."""

    version: str = Field(pattern=VERSION_PATTERN, examples=["grading-2027.1"])
    effective_from: date = Field(description="the first day it applies: today or later")
    document: dict[str, Any] = Field(description="the policy's fields (docs/policy.md)")


class VersionSummary(BaseModel):
    version: str
    effective_from: date


class InForce(VersionSummary):
    document: dict[str, Any]


class PolicyView(BaseModel):
    name: str
    at: date
    in_force: InForce | None = Field(description="the version in force on ``at``")
    versions: list[VersionSummary] = Field(description="every version, by effective date")


class Changes(BaseModel):
    name: str
    version: str
    effective_from: date
    against: str | None = Field(description="the version in force on the draft's first day")
    changes: list[str] = Field(examples=[["bands[engineer/senior].min_score: 97 → 98"]])


class Published(Changes):
    document: dict[str, Any]
    published_by: str


def install_policies(
    app: FastAPI, registrations: Sequence[PolicyRegistration], registry: EventRegistry
) -> None:
    """Give ``app`` its books (``app.state.policies``, seeded and read when it starts) and the
    policy routes; a service without policies of its own still answers which service has one."""
    if PolicyPublished.event_type not in registry:
        registry.register(PolicyPublished)
    by_name = {r.name: r for r in registrations}
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with original(app_) as state:  # the service's resources are open from here
            shelf = PolicyShelf(app_.state.store, by_name)
            await seed(shelf, app_aggregates(app_.state, registry))
            app_.state.policies = shelf
            yield state

    app.router.lifespan_context = lifespan
    router = policy_router(registrations, registry)
    document_command_headers(router.routes)
    app.include_router(router, responses=PROBLEM_RESPONSES)


def policy_router(
    registrations: Sequence[PolicyRegistration], registry: EventRegistry
) -> APIRouter:
    router = APIRouter(tags=["policies"])
    for reg in registrations:
        _routes(router, reg, registry)
    _elsewhere(router, {r.name for r in registrations})
    return router


def _routes(router: APIRouter, reg: PolicyRegistration, registry: EventRegistry) -> None:
    Publisher = Annotated[Write, writer(*reg.publishers, if_match=False)]
    path = f"/policies/{reg.name}"

    @router.get(path, name=f"get_{reg.name}_policy")
    async def versions(
        request: Request,
        principal: CurrentPrincipal,
        now: Now,
        at: Annotated[IsoDay | None, Query(description="the day whose version to show")] = None,
    ) -> PolicyView:
        """The versions of the policy with their effective dates, and the one in force on
        ``at`` (today by default) with its document. Any authenticated role."""
        book = await shelf_of(request.app.state).book(reg.name)
        return view(reg.name, book, at or now.date())

    @router.post(path, status_code=201, name=f"publish_{reg.name}_policy")
    async def publish(body: Draft, write: Publisher) -> Published:
        """Publish a version (PolicyPublished): 201 with its changes against the version in force
        on its first day; 422 listing every problem; 409 for a version name published before."""
        shelf = shelf_of(write.app_state)
        version, changes = await _checked(shelf, reg, body, write.today)
        command = PublishPolicy(
            reg.name, version, write.actor_id, write.today, frozenset(reg.shipped.aliases)
        )
        await app_aggregates(write.app_state, registry).execute(
            POLICY_STREAM, reg.stream_id, command, write.meta(None)
        )
        write.located(f"{path}?at={body.effective_from}")
        return Published(
            **changes.model_dump(), document=body.document, published_by=write.actor_id
        )

    @router.post(f"{path}/diff", name=f"diff_{reg.name}_policy")
    async def preview(body: Draft, write: Publisher) -> Changes:
        """The changes a draft makes against the version in force on its first day, after the
        same checks as publishing (422 listing every problem); nothing is stored."""
        _, changes = await _checked(shelf_of(write.app_state), reg, body, write.today)
        return changes


def view(name: str, book: PolicyBook[Any], at: date) -> PolicyView:
    in_force = next((v for v in reversed(book.versions) if v.effective_from <= at), None)
    shown = None
    if in_force is not None:
        shown = InForce(
            version=in_force.version,
            effective_from=in_force.effective_from,
            document=document_of(in_force),
        )
    versions = [
        VersionSummary(version=v.version, effective_from=v.effective_from) for v in book.versions
    ]
    return PolicyView(name=name, at=at, in_force=shown, versions=versions)


async def _checked(
    shelf: PolicyShelf, reg: PolicyRegistration, body: Draft, today: date
) -> tuple[PolicyVersion, Changes]:
    """The draft as its model and its changes; 409 for a name taken, else 422 listing every
    problem (field errors, semantic checks, the effective date)."""
    book = await shelf.book(reg.name)
    if body.version in book:
        raise Conflict(f"policy {reg.name} already has a version {body.version}")
    version, problems = parse_draft(reg, body)
    stream = PolicyStream(tuple((v.version, v.effective_from) for v in book.versions))
    problems += [
        {"field": "body.effective_from", "message": text, "type": "policy"}
        for text in publication_problems(body.effective_from, today, stream)
    ]
    if not body.version.startswith(f"{reg.name}-"):
        message = f"must start with {reg.name}- (the policy's name), e.g. {reg.name}-2027.1"
        problems.append({"field": "body.version", "message": message, "type": "policy"})
    if problems or version is None:
        raise validation_failed(
            f"policy {reg.name} {body.version}: {len(problems)} problem(s)", problems
        )
    against = _in_force(book, body.effective_from)
    before = {} if against is None else document_of(against)
    changes = Changes(
        name=reg.name,
        version=body.version,
        effective_from=body.effective_from,
        against=None if against is None else against.version,
        changes=diff(before, document_of(version)),
    )
    return version, changes


def _in_force(book: PolicyBook[Any], on: date) -> PolicyVersion | None:
    return next((v for v in reversed(book.versions) if v.effective_from <= on), None)


def parse_draft(
    reg: PolicyRegistration, body: Draft
) -> tuple[PolicyVersion | None, list[dict[str, Any]]]:
    """The draft as the policy's model, and every problem: each field error pydantic finds,
    then (when the fields parse) each semantic problem of the model's ``problems()``."""
    raw = {**body.document, "version": body.version, "effective_from": body.effective_from}
    try:
        version = reg.model.model_validate(raw, context={"semantic": False})
    except ValidationError as exc:
        return None, [_field_error(e) for e in exc.errors()]
    found = [
        {"field": f"body.document.{path}", "message": text, "type": "policy"}
        for path, text in version.problems()
    ]
    return version, found


def _field_error(error: Any) -> dict[str, Any]:
    loc = [str(p) for p in error.get("loc", ())]
    top = loc[:1] in (["version"], ["effective_from"])
    name = ".".join(["body", *loc]) if top else ".".join(["body", "document", *loc])
    return {"field": name, "message": str(error.get("msg", "")), "type": str(error.get("type", ""))}


def _elsewhere(router: APIRouter, here: set[str]) -> None:
    """``/policies/{name}`` for a name not applied here: 404 naming the service that does."""

    @router.get("/policies/{name}", name="policy_elsewhere")
    async def elsewhere(name: str, principal: CurrentPrincipal) -> PolicyView:
        """A policy another service applies (404 naming it), or no policy at all (404)."""
        raise _missing(name, here)

    @router.post("/policies/{name}", name="publish_policy_elsewhere", status_code=201)
    async def publish_elsewhere(name: str, principal: CurrentPrincipal) -> Published:
        """A policy another service applies (404 naming it), or no policy at all (404)."""
        raise _missing(name, here)

    @router.post("/policies/{name}/diff", name="diff_policy_elsewhere")
    async def diff_elsewhere(name: str, principal: CurrentPrincipal) -> Changes:
        """A policy another service applies (404 naming it), or no policy at all (404)."""
        raise _missing(name, here)


def _missing(name: str, here: set[str]) -> Exception:
    service = SERVED_BY.get(name)
    if service is None:
        known = ", ".join(sorted(SERVED_BY))
        return not_found(f"no policy {name!r}: the policies are {known}")
    return not_found(f"policy {name!r} is served by the {service} service, not this one")
