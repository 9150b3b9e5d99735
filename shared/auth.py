"""JWT bearer authentication and role checks (docs/http.md, "Conventions of every service").

Two kinds of token (ADR 0013), told apart by the ``alg`` of their header:

- RS256/ES256 tokens of the OpenID Connect issuer in ``GRADELINE_OIDC_ISSUER`` (shared.oidc:
  keys from its JWKS, ``iss``, ``aud`` = ``GRADELINE_OIDC_AUDIENCE``, roles, branch and department
  read where the settings say);
- HS256 tokens signed with ``GRADELINE_JWT_SECRET`` (``gradeline token``, the demo, the tests):
  the only kind without an issuer; with one, taken in ``development`` and ``test`` only.

The algorithm lists are fixed here rather than taken from the token header, so ``alg: none`` and
algorithm-confusion tokens are refused; for HS256, ``iss`` and ``aud`` are checked when the
settings name them (``GRADELINE_JWT_ISSUER``, ``GRADELINE_JWT_AUDIENCE``). Every failure to
authenticate is a 401 problem with a ``WWW-Authenticate: Bearer`` challenge, except that the
issuer's keys cannot be fetched (503: not the caller's fault; signing in again would not help);
an authenticated principal without the needed role (or branch) gets 403. In a service app the
caller is authenticated before the request is validated (:mod:`shared.guard`); the dependency
below then reads the principal the guard verified.

Usage in a router::

    @router.post("/trainees")
    async def enroll(
        body: Enroll,
        principal: Annotated[Principal, Depends(require_roles(Role.BRANCH_CLERK))],
    ) -> ...: ...
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import jwt
from fastapi import Depends
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import HTTPConnection

from shared import oidc
from shared.events import Actor
from shared.problems import Problem, ProblemType, forbidden, unauthorized

if TYPE_CHECKING:
    from shared.settings import Settings

ALGORITHM = "HS256"
# Where the guard (shared.guard) leaves the verified caller in the request's scope state.
PRINCIPAL_STATE = "principal"


class Role(StrEnum):
    BRANCH_CLERK = "branch_clerk"
    AFTER_SALES_MANAGER = "after_sales_manager"
    PRODUCTION_MANAGER = "production_manager"
    EXEC_VP = "exec_vp"
    TRAINER = "trainer"
    TRAINEE = "trainee"
    EXAMINER = "examiner"
    PAYROLL = "payroll"
    MANAGEMENT = "management"
    AUDITOR = "auditor"
    ADMIN = "admin"  # the organisation's administrator: branches and staff, nothing else


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the token says."""

    sub: str
    roles: frozenset[str]
    branch_id: str | None = None
    department: str | None = None

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def acts_for_branch(self, branch_id: str | None) -> bool:
        """True when the token is bound to ``branch_id``; a token without a branch acts for none."""
        return self.branch_id is not None and self.branch_id == branch_id

    def actor(self, *preferred: str) -> Actor:
        """The event actor: the first of ``preferred`` roles held, else the first role by name."""
        role = next((r for r in preferred if r in self.roles), None)
        if role is None:
            role = min(self.roles) if self.roles else "none"
        return Actor(sub=self.sub, role=str(role))


class _Claims(BaseModel):
    """The claims a Gradeline token must carry (``exp`` is checked by PyJWT)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(min_length=1)
    roles: list[str]
    branch_id: str | None = None
    department: str | None = None


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why (safe to show to the caller)."""


# Tokens verified lately, with their expiry: clients send the same token many times. An entry is
# trusted only until its ``exp``; the cache is bounded and keyed by everything the check used:
# (secret, issuer, audience, token) for HS256, ("oidc", issuer, audience, claim paths, token) for
# an issuer's tokens (the tuples differ in length, so the two kinds never share an entry).
_VERIFIED: dict[tuple[Any, ...], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def _remembered(key: tuple[Any, ...]) -> Principal | None:
    hit = _VERIFIED.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        del _VERIFIED[key]
    return None


def _remember(key: tuple[Any, ...], principal: Principal, expires: float) -> None:
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, expires)


def decode_token(
    token: str, secret: str, *, issuer: str | None = None, audience: str | None = None
) -> Principal:
    """Verify ``token`` (HS256, signature, ``exp``, and ``iss``/``aud`` when given) and read its
    claims, or raise InvalidToken."""
    key = (secret, issuer, audience, token)
    principal = _remembered(key)
    if principal is None:
        principal, expires = _verify(token, secret, issuer, audience)
        _remember(key, principal, expires)
    return principal


async def verify_token(token: str, settings: Settings) -> Principal:
    """The principal ``token`` proves under ``settings`` (see the module docstring for which
    tokens are taken), or InvalidToken; oidc.KeysUnavailable when the issuer's keys cannot be
    fetched."""
    if settings.oidc_issuer is None:
        return decode_token(
            token, settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("token is invalid") from exc
    if alg in oidc.ALGORITHMS:
        return await _verify_issued(token, settings, settings.oidc_issuer)
    if not settings.accepts_hs256():
        raise InvalidToken(
            "only tokens of the OpenID Connect issuer are accepted"
            + (" (HS256 tokens are refused in production)" if alg == ALGORITHM else "")
        )
    return decode_token(
        token, settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )


async def _verify_issued(token: str, settings: Settings, issuer: str) -> Principal:
    paths = oidc.ClaimPaths(
        settings.oidc_roles_claim,
        settings.oidc_branch_claim,
        settings.oidc_department_claim,
        settings.oidc_subject_claim,
    )
    key = ("oidc", issuer, settings.oidc_audience, paths, token)
    principal = _remembered(key)
    if principal is None:
        verifier = oidc.verifier_for(
            issuer, settings.oidc_audience, paths, settings.oidc_jwks_refetch_seconds
        )
        try:
            identity, expires = await verifier.verify(token)
        except oidc.TokenRejected as exc:
            raise InvalidToken(str(exc)) from exc
        principal = Principal(identity.sub, identity.roles, identity.branch_id, identity.department)
        _remember(key, principal, expires)
    return principal


def _verify(
    token: str, secret: str, issuer: str | None, audience: str | None
) -> tuple[Principal, float]:
    required = ["exp", "sub", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": required},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(oidc.refusal(exc)) from exc
    try:
        claims = _Claims.model_validate(payload)
    except ValidationError as exc:
        bad = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise InvalidToken(f"token claims are missing or malformed: {bad}") from exc
    principal = Principal(
        sub=claims.sub,
        roles=frozenset(claims.roles),
        branch_id=claims.branch_id,
        department=claims.department,
    )
    return principal, float(payload["exp"])


def mint_token(
    secret: str,
    sub: str,
    roles: Iterable[str],
    branch_id: str | None = None,
    department: str | None = None,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
    *,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A signed token for development tools, demos and tests."""
    issued = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": sub,
        "roles": [str(r) for r in roles],
        "branch_id": branch_id,
        "department": department,
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
    }
    if issuer:
        payload["iss"] = issuer
    if audience:
        payload["aud"] = audience
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def mint_token_for(settings: Settings, sub: str, roles: Iterable[str], **claims: Any) -> str:
    """:func:`mint_token` with the settings' secret, issuer and audience: a token the services
    configured by ``settings`` accept."""
    return mint_token(
        settings.jwt_secret,
        sub,
        roles,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        **claims,
    )


# Seconds a client waits before trying again while the issuer's keys cannot be fetched.
KEYS_RETRY_AFTER_SECONDS = 5


async def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """The caller an ``Authorization`` header proves, or a 401 problem (503 while the issuer's
    keys cannot be fetched)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("Bearer token required", error=None)
    try:
        return await verify_token(token, settings)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc
    except oidc.KeysUnavailable as exc:
        raise identity_provider_unavailable(str(exc)) from exc


def identity_provider_unavailable(detail: str) -> Problem:
    """503: a token of the issuer cannot be checked because its keys cannot be fetched."""
    return ProblemType.NOT_READY(
        f"the identity provider cannot be reached to check the token: {detail}",
        headers={"Retry-After": str(KEYS_RETRY_AFTER_SECONDS)},
    )


class BearerPrincipal(HTTPBearer):
    """The authenticated caller, optionally required to hold one of ``roles``, as ONE dependency.

    An ``HTTPBearer`` so that OpenAPI documents the scheme, but resolving the principal itself:
    FastAPI's dependency solving costs tens of microseconds per node and request, and a chain of
    bearer -> principal -> role check was three nodes on every route (bench/profile_notes.md).
    No token: 401 problem; untrustworthy token: 401; lacking every role in ``roles``: 403.
    """

    def __init__(self, roles: frozenset[str] = frozenset()) -> None:
        # One scheme name for every instance: OpenAPI lists the bearer scheme once.
        super().__init__(
            auto_error=False,
            scheme_name="HTTPBearer",
            description="JWT of the OpenID Connect issuer (RS256/ES256), or HS256 in development",
        )
        self.roles = roles
        self.__name__ = (  # FastAPI and logs name dependencies by it
            f"require_roles_{'_'.join(sorted(roles))}" if roles else "current_principal"
        )

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        principal: Principal | None = request.scope.get("state", {}).get(PRINCIPAL_STATE)
        if principal is None:  # an app without the guard (shared.guard) in front
            principal = await authenticate(
                request.headers.get("Authorization"), request.app.state.settings
            )
        self.check_roles(principal)
        return principal

    def check_roles(self, principal: Principal) -> None:
        """403 unless ``principal`` holds one of the roles (any principal when there are none)."""
        if self.roles and not principal.has_role(*self.roles):
            raise forbidden(f"requires one of the roles: {', '.join(sorted(self.roles))}")


current_principal = BearerPrincipal()
"""The authenticated caller; 401 problem when the token is absent or not trustworthy."""

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> BearerPrincipal:
    """A dependency yielding the principal when it holds one of ``roles``, else a 403 problem."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    return BearerPrincipal(frozenset(str(r) for r in roles))


def require_branch(principal: Principal, branch_id: str | None) -> None:
    """403 unless the principal acts for ``branch_id`` (a handler helper for branch-bound roles)."""
    if not principal.acts_for_branch(branch_id):
        raise forbidden(f"not permitted to act for branch {branch_id!r}")
