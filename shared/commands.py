"""What a command route needs of its request, resolved as ONE FastAPI dependency.

A command needs the caller (bearer token, with a role check), the effective ``Idempotency-Key``,
the ``If-Match`` version when the route takes one, and the request's ``now``. As separate
dependencies that was four to six nodes for FastAPI to solve on every request, plus two header
parameters to validate, a large share of a command's CPU (bench/profile_notes.md). :func:`writer`
resolves them in one node whose only parameters are the request and the response. Every write
route has the same shape: it builds the command, hands it to its service's handler with the
handler's dependencies and the :class:`CommandContext`, and answers with the ETag::

    Enrolment = Annotated[Write, writer(Role.BRANCH_CLERK, Role.AFTER_SALES_MANAGER)]

    @router.post("/trainees", status_code=201)
    async def enroll(body: EnrollRequest, write: Enrolment) -> ...:
        outcome = await handlers.enroll(write.aggregates(registry), command, write)
        write.shown(outcome.version)

The two headers still appear in the OpenAPI document: :func:`document_command_headers` adds them
to every route using such a dependency when the app is built (no cost per request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from shared.auth import BearerPrincipal, Principal
from shared.events import EventRegistry
from shared.execution import Aggregates, Metadata, app_aggregates
from shared.idempotency import IDEMPOTENCY_HEADER, KEY_PATTERN
from shared.problems import validation_failed
from shared.requests import command_metadata, etag, request_now

IF_MATCH_HEADER = "If-Match"
_ETAG = re.compile(r'"([0-9]{1,10})"')  # ASCII digits: header values are Latin-1


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who asks, under which key, decided on which version (``If-Match``), and when; what a
    handler records about the command (:meth:`meta`). ``acting_as``: the roles the route admits,
    in order of preference: the first one the caller holds is the role its events record."""

    principal: Principal
    idempotency_key: str | None
    expected: int | None
    now: datetime
    acting_as: tuple[str, ...] = ()

    @property
    def actor_id(self) -> str:
        return self.principal.sub

    @property
    def today(self) -> date:
        return self.now.date()

    def meta(self, branch_id: str | None) -> Metadata:
        """The envelope's who, which branch, which request and when, for the command's events."""
        return command_metadata(
            self.principal,
            self.idempotency_key,
            self.now,
            branch_id=branch_id,
            roles=self.acting_as,
        )


def parse_if_match(value: str | None) -> int | None:
    """The stream version named by ``If-Match``, None without the header, 422 when malformed."""
    if value is None:
        return None
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        reason = 'must be one strong ETag holding a version, e.g. "7"'
        raise validation_failed(
            f"{IF_MATCH_HEADER} {reason}",
            [{"field": f"header.{IF_MATCH_HEADER}", "message": reason, "type": "etag"}],
        )
    return int(match.group(1))


class CommandDependency(BearerPrincipal):
    """The :class:`CommandContext` of a request; 401/403 as :class:`BearerPrincipal`, 422 for a
    malformed ``If-Match``."""

    def __init__(self, roles: tuple[str, ...], *, if_match: bool) -> None:
        super().__init__(frozenset(roles))
        self.acting_as = roles
        self.if_match = if_match

    async def __call__(self, request: HTTPConnection) -> CommandContext:  # type: ignore[override]
        principal = await super().__call__(request)
        # The scoped key the idempotency middleware put in the request's state (None without
        # the header): it reaches store.append(idempotency_key=...).
        key = request.scope.get("state", {}).get("idempotency_key")
        expected = parse_if_match(request.headers.get("if-match")) if self.if_match else None
        return CommandContext(principal, key, expected, request_now(request), self.acting_as)

    def openapi_parameters(self) -> list[dict[str, Any]]:
        parameters = [
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Repeat a POST/PUT safely: same key and body replay the first "
                "response; the same key with a different body is a 422.",
                "schema": {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"},
            }
        ]
        if self.if_match:
            parameters.append(
                {
                    "name": IF_MATCH_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "The aggregate version the write was decided on, as its ETag "
                    '("7"). A stale version answers 412; without it the service re-decides on '
                    "fresh state.",
                    "schema": {"type": "string", "pattern": f"^{_ETAG.pattern}$"},
                }
            )
        return parameters


@dataclass(frozen=True, slots=True, kw_only=True)
class Write(CommandContext):
    """A :class:`CommandContext` with the request and response it came with: what a write route
    needs to hand its handler the app's resources and to answer the ETag and Location."""

    request: Request
    response: Response

    @property
    def app_state(self) -> State:
        """The app's state (``pool``, ``store``, ``states``): for the route to wire its handler."""
        state: State = self.request.app.state
        return state

    def aggregates(self, registry: EventRegistry) -> Aggregates:
        """The app's event store and state cache, decoding with the service's ``registry``."""
        return app_aggregates(self.app_state, registry)

    def shown(self, version: int) -> int:
        """Set the response's ETag to ``version``; return it."""
        self.response.headers["ETag"] = etag(version)
        return version

    def located(self, path: str) -> None:
        """Set the response's ``Location`` to the resource the write created."""
        self.response.headers["Location"] = path


class WriteDependency(CommandDependency):
    """A :class:`Write` as ONE dependency node: the :class:`CommandContext` plus the request
    and response, which FastAPI hands over without solving anything."""

    async def __call__(self, request: Request, response: Response) -> Write:  # type: ignore[override]
        cmd = await super().__call__(request)
        return Write(
            cmd.principal,
            cmd.idempotency_key,
            cmd.expected,
            cmd.now,
            cmd.acting_as,
            request=request,
            response=response,
        )


def writer(*roles: str, if_match: bool = True) -> Any:
    """``Depends`` of a write by a caller holding one of ``roles`` (in order of preference: the
    first held is the role its events record); ``if_match``: it reads ``If-Match`` (the version
    of the aggregate it appends to)."""
    return Depends(WriteDependency(tuple(str(r) for r in roles), if_match=if_match))


def command(*roles: str, if_match: bool = False) -> CommandDependency:
    """The dependency of a command route: the caller must hold one of ``roles`` (any
    authenticated caller when none are given); ``if_match`` reads the ``If-Match`` header."""
    return CommandDependency(tuple(str(r) for r in roles), if_match=if_match)


def document_command_headers(routes: Iterable[Any]) -> None:
    """Declare ``Idempotency-Key`` (and ``If-Match``) in the OpenAPI operation of every route
    that resolves a :class:`CommandDependency`, as header parameters of the operation."""
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        dependency = _command_dependency(route.dependant)
        if dependency is None:
            continue
        extra = dict(route.openapi_extra or {})
        declared = {p.get("name") for p in extra.get("parameters", [])}
        extra["parameters"] = [
            *extra.get("parameters", []),
            *(p for p in dependency.openapi_parameters() if p["name"] not in declared),
        ]
        route.openapi_extra = extra


def _command_dependency(dependant: Dependant) -> CommandDependency | None:
    for sub in dependant.dependencies:
        if isinstance(sub.call, CommandDependency):
            return sub.call
        found = _command_dependency(sub)
        if found is not None:
            return found
    return None
