"""``GET /auth/config``: how the service's pages sign people in, on every service.

The pages (the dashboard, the workbench) are static files: they learn the identity provider from
the service that served them, then sign in there with Authorization Code + PKCE (the vendored
``oidc-client-ts``, ``/docs/assets/oidc-client-ts.min.js``) and call the APIs with the access
token. Public: the page asks before anyone has signed in, and it holds nothing secret (a public
client has no secret; the issuer's discovery document is public too).

No issuer configured (``GRADELINE_OIDC_ISSUER`` unset): ``issuer`` is null, sign-in is not
available, and the pages offer only a developer's pasted token (``gradeline token``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.settings import Settings


class SignInConfig(BaseModel):
    """Where and as which client a page signs in, and where the claims sit in the tokens."""

    issuer: str | None = Field(
        description="the OpenID Connect issuer (discovery at <issuer>/.well-known/"
        "openid-configuration); null: no sign-in here, a developer's pasted token only",
        examples=["https://sso.example.com/realms/gradeline"],
    )
    client_id: str = Field(
        description="the public client the pages sign in as", examples=["gradeline-web"]
    )
    audience: str = Field(
        description="the aud the services require of an access token", examples=["gradeline"]
    )
    scopes: list[str] = Field(
        description="the scopes a page requests (GRADELINE_OIDC_SCOPES); roles, branch and "
        "department reach the access token through the provider's mappers, not through scopes",
        examples=[["openid", "profile", "email"]],
    )
    subject_claim: str = Field(
        description="where the caller's id sits in an access token (a dotted path)",
        examples=["preferred_username"],
    )
    roles_claim: str = Field(
        description="where the roles sit in a token (a dotted path)",
        examples=["realm_access.roles"],
    )
    branch_claim: str = Field(description="where the branch sits", examples=["branch_id"])
    department_claim: str = Field(description="where the department sits", examples=["department"])


def sign_in_config(settings: Settings) -> SignInConfig:
    """Each field is the setting of its name after ``oidc_`` (``issuer``: ``oidc_issuer``)."""
    return SignInConfig(
        **{name: getattr(settings, f"oidc_{name}") for name in SignInConfig.model_fields}
    )


def signin_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/auth/config", response_model=SignInConfig)
    async def auth_config(request: Request) -> SignInConfig:
        """How the pages sign in: the issuer, the pages' client and the claims' places (public:
        asked before anyone has signed in). `issuer` null: sign-in is not available."""
        settings: Settings = request.app.state.settings
        return sign_in_config(settings)

    return router
