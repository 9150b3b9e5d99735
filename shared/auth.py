"""JWT bearer authentication and role checks (docs/http.md, "Conventions of every service").

Tokens are HS256 only. The algorithm list is fixed in :func:`decode_token` rather than taken from
the token header, so ``alg: none`` and algorithm-confusion tokens are refused; ``iss`` and ``aud``
are checked when the settings name them (``GRADELINE_JWT_ISSUER``, ``GRADELINE_JWT_AUDIENCE``).
Every failure to authenticate is a 401 problem with a ``WWW-Authenticate: Bearer`` challenge; an
authenticated principal without the needed role (or branch) gets 403. In a service app the
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

from shared.events import Actor
from shared.problems import forbidden, unauthorized

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
# trusted only until its ``exp``; the cache is bounded and keyed by everything the check used.
_VERIFIED: dict[tuple[str, str | None, str | None, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def decode_token(
    token: str, secret: str, *, issuer: str | None = None, audience: str | None = None
) -> Principal:
    """Verify ``token`` (HS256, signature, ``exp``, and ``iss``/``aud`` when given) and read its
    claims, or raise InvalidToken."""
    key = (secret, issuer, audience, token)
    hit = _VERIFIED.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        del _VERIFIED[key]
    principal, expires = _verify(token, secret, issuer, audience)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, expires)
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
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"token lacks the {exc.claim!r} claim") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("token is not from the configured issuer") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("token is not for this audience") from exc
    except jwt.InvalidTokenError as exc:
        # Bad signature, wrong or missing algorithm, malformed: one answer, no oracle for attackers.
        raise InvalidToken("token is invalid") from exc
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


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """The caller an ``Authorization`` header proves, or a 401 problem."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("Bearer token required", error=None)
    try:
        return decode_token(
            token, settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


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
            description="HS256 JWT with sub, roles, branch_id, exp",
        )
        self.roles = roles
        self.__name__ = (  # FastAPI and logs name dependencies by it
            f"require_roles_{'_'.join(sorted(roles))}" if roles else "current_principal"
        )

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        principal: Principal | None = request.scope.get("state", {}).get(PRINCIPAL_STATE)
        if principal is None:  # an app without the guard (shared.guard) in front
            principal = authenticate(
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
