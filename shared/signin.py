"""``GET /auth/config``: how the service's pages sign people in, and where they call the
services, on every service.

The pages (the dashboard, the workbench) are static files: they learn the identity provider from
the service that served them, then sign in there with Authorization Code + PKCE (the vendored
``oidc-client-ts``, ``/docs/assets/oidc-client-ts.min.js``) and call the APIs with the access
token. Public: the page asks before anyone has signed in, and it holds nothing secret (a public
client has no secret; the issuer's discovery document is public too).

No issuer configured (``GRADELINE_OIDC_ISSUER`` unset): ``issuer`` is null, sign-in is not
available, and the pages offer only a developer's pasted token (``gradeline token``).

``api_urls`` (``GRADELINE_PAGES_API_URL``): each service's address as the pages call it, such as
``/api/training`` behind the Ingress (deploy/README.md); null: each service's port on the page's
own host, as ``make run`` serves them.
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
    api_urls: dict[str, str] | None = Field(
        description="each service's base URL as the pages call it (GRADELINE_PAGES_API_URL), "
        "absolute or a path on the page's origin; null: each service's port on the page's host",
        examples=[
            {
                "enrollment": "/api/enrollment",
                "training": "/api/training",
                "assessment": "/api/assessment",
                "compensation": "/api/compensation",
            }
        ],
    )


def sign_in_config(settings: Settings) -> SignInConfig:
    """Each sign-in field is the setting of its name after ``oidc_`` (``issuer``:
    ``oidc_issuer``); ``api_urls`` is ``pages_api_url`` filled in for each service."""
    fields = [name for name in SignInConfig.model_fields if name != "api_urls"]
    return SignInConfig(
        **{name: getattr(settings, f"oidc_{name}") for name in fields},
        api_urls=settings.pages_api_urls(),
    )


def signin_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/auth/config", response_model=SignInConfig)
    async def auth_config(request: Request) -> SignInConfig:
        """How the pages sign in: the issuer, the pages' client and the claims' places, and where
        they call each service (public: asked before anyone has signed in). `issuer` null:
        sign-in is not available; `api_urls` null: each service's port on the page's host."""
        settings: Settings = request.app.state.settings
        return sign_in_config(settings)

    return router
