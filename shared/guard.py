"""Authenticate before validating: the guard in front of every protected route.

FastAPI reads and validates a request (its JSON body, then each dependency and parameter in the
order the route declares them) before or while it resolves the route's bearer dependency, so a
caller without a token learned the route's rules from a 422 (``GET /branch-fees/0`` described
what a month must look like). :class:`AuthenticationMiddleware` runs first: it finds the route a
request will reach, and when that route depends on :class:`shared.auth.BearerPrincipal` (a
*protected* route: ``CurrentPrincipal``, ``require_roles``, ``command``, ``writer``) it answers
401 without a valid token, and 403 without one of the route's roles, before FastAPI sees the
request. The verified principal is left in the request's scope state, where the route's
dependency and the ``Idempotency-Key`` middleware read it instead of verifying the token again.

A route without such a dependency is public (``/health``, ``/ready``, ``/metrics``, ``/docs``,
``/openapi.json``, the dashboard page) and passes untouched; so does a path no route matches
(404) or a method none allows (405).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import fastapi.routing
from fastapi.dependencies.models import Dependant
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import PRINCIPAL_STATE, BearerPrincipal, authenticate
from shared.problems import Problem

_CACHE_MAX = 10_000  # remembered (method, path) -> guards; then start afresh
_PUBLIC: tuple[BearerPrincipal, ...] = ()


class AuthenticationMiddleware:
    """401/403 for a protected route before its request is validated; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            guards = guards_of(scope)
            if guards:
                try:
                    principal = await authenticate(
                        _authorization(scope), scope["app"].state.settings
                    )
                    for guard in guards:
                        guard.check_roles(principal)
                except Problem as refused:
                    await refused.to_response()(scope, receive, send)
                    return
                scope.setdefault("state", {})[PRINCIPAL_STATE] = principal
        await self.app(scope, receive, send)


def guards_of(scope: Scope) -> tuple[BearerPrincipal, ...]:
    """The bearer dependencies of the route ``scope`` will reach (empty: a public route, or no
    route). Remembered per method and path: matching tries each route's pattern in turn, and
    paths repeat (retries, the same trainee)."""
    app = scope["app"]
    state = app.state
    cache: dict[tuple[str, str], tuple[BearerPrincipal, ...]] | None = getattr(
        state, "route_guards", None
    )
    if cache is None:
        cache = state.route_guards = {}
    key = (scope["method"], scope["path"])
    guards = cache.get(key)
    if guards is None:
        guards = _match(_routes(app), scope)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = guards
    return guards


def _match(routes: Iterable[Any], scope: Scope) -> tuple[BearerPrincipal, ...]:
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:  # the router takes the first full match too
            dependant = getattr(route, "dependant", None)
            return tuple(bearers(dependant)) if dependant is not None else _PUBLIC
    return _PUBLIC


def bearers(dependant: Dependant) -> Iterable[BearerPrincipal]:
    for sub in dependant.dependencies:
        if isinstance(sub.call, BearerPrincipal):
            yield sub.call
        yield from bearers(sub)


def _routes(app: Any) -> list[Any]:
    """The app's routes, flat: FastAPI 0.165 wraps each included router's routes in one object,
    which ``iter_route_contexts`` lists one route at a time."""
    routes: list[Any] | None = getattr(app.state, "guarded_routes", None)
    if routes is None:
        flatten = getattr(fastapi.routing, "iter_route_contexts", None)
        routes = list(flatten(app.router.routes)) if flatten else list(app.router.routes)
        app.state.guarded_routes = routes
    return routes


def _authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None
