"""Signing in on the pages. GET /auth/config: every service tells its pages how to sign in, from
the settings, without a token; no issuer configured means no sign-in (the pages offer a
developer's pasted token). The dashboard loads the vendored OpenID Connect client from its own
service and its sign-in module beside its script. The sign-in itself, in Chromium against a real
provider, is tests/e2e/test_signin.py's."""

from __future__ import annotations

import importlib

import httpx
import pytest

from shared.settings import Settings

SERVICES = ("enrollment", "training", "assessment", "compensation")


async def config_of(service: str, settings: Settings) -> httpx.Response:
    app = importlib.import_module(f"services.{service}.app").create_app(settings)
    transport = httpx.ASGITransport(app=app)  # no lifespan: the route needs no database
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        return await http.get("/auth/config")


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_names_the_issuer_and_the_pages_client_without_a_token(service):
    settings = Settings(
        workers=[],
        oidc_issuer="https://sso.example.com/realms/gradeline",
        oidc_client_id="gradeline-pages",
        oidc_audience="api://gradeline",
        oidc_roles_claim="realm_access.roles",
        oidc_branch_claim="org.branch",
        oidc_subject_claim="preferred_username",
        oidc_scopes=["openid", "profile", "offline_access", "api://gradeline/.default"],
    )
    answer = await config_of(service, settings)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "issuer": "https://sso.example.com/realms/gradeline",
        "client_id": "gradeline-pages",
        "audience": "api://gradeline",
        "scopes": ["openid", "profile", "offline_access", "api://gradeline/.default"],
        "subject_claim": "preferred_username",
        "roles_claim": "realm_access.roles",
        "branch_claim": "org.branch",
        "department_claim": "department",
        "api_urls": None,  # the pages call each service's port on their own host
    }


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_tells_the_pages_the_configured_api_urls(service):
    # Behind the Ingress (deploy/k8s/ingress.yaml): each API under /api/<service>/ on one host.
    answer = await config_of(service, Settings(workers=[], pages_api_url="/api/{service}/"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["api_urls"] == {
        "enrollment": "/api/enrollment",
        "training": "/api/training",
        "assessment": "/api/assessment",
        "compensation": "/api/compensation",
    }
    absolute = Settings(workers=[], pages_api_url="https://gradeline.example.com/{service}-api")
    answer = await config_of(service, absolute)
    assert answer.json()["api_urls"]["training"] == "https://gradeline.example.com/training-api"


@pytest.mark.parametrize(
    "template",
    [
        "/api/training",
        "api/{service}",
        "ftp://host/{service}",
        "/api/{service}?x=1",
        "//h/{service}",
    ],
)
def test_a_pages_api_url_must_name_the_service_and_be_a_url_or_a_path(template):
    with pytest.raises(ValueError, match="GRADELINE_PAGES_API_URL"):
        Settings(pages_api_url=template)


async def test_without_an_issuer_sign_in_is_unavailable():
    answer = await config_of("assessment", Settings(workers=[]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["issuer"] is None
    assert body["client_id"] == "gradeline-web"  # the defaults still say which client it would be
    assert (body["scopes"], body["subject_claim"]) == (["openid", "profile", "email"], "sub")


async def test_a_token_is_neither_needed_nor_looked_at():
    settings = Settings(workers=[], oidc_issuer="https://sso.example.com/realms/gradeline")
    app = importlib.import_module("services.assessment.app").create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        answer = await http.get("/auth/config", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 200
    assert answer.json()["issuer"] == "https://sso.example.com/realms/gradeline"


async def test_the_dashboard_loads_the_vendored_client_and_its_signin_module_from_the_service():
    app = importlib.import_module("services.assessment.app").create_app(Settings(workers=[]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        page = await http.get("/dashboard")
        module = await http.get("/pages/signin.js")
        script = await http.get("/dashboard/app.js")
        library = await http.get("/docs/assets/oidc-client-ts.min.js")
    # A classic script before the module: the global `oidc` exists when signin.js runs.
    assert page.text.index('<script src="/docs/assets/oidc-client-ts.min.js">') < page.text.index(
        'src="/dashboard/app.js"'
    )
    assert "script-src 'self'" in page.headers["content-security-policy"]  # same origin: allowed
    assert library.status_code == 200
    assert module.status_code == 200
    assert module.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "new oidc.UserManager(" in module.text and "window.sessionStorage" in module.text
    assert 'from "../pages/signin.js";' in script.text  # the module every page shares
    # The paste-a-token control is a collapsed developer's fallback, the token input inside it.
    details = page.text.index('<details id="developer-token"')
    assert details < page.text.index('id="token"') < page.text.index("</details>", details)
