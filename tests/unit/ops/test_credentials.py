"""The token a ``gradeline`` command calls the services with (ops/credentials.py): HS256 for the
role where the services take it, else the client-credentials grant of the configured client,
whose request, caching and refusals are checked here against a stand-in token endpoint (the real
provider: tests/integration/test_cli_credentials.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from ops.credentials import (
    CredentialsError,
    command_token,
    forget_tokens,
    require_development_tokens,
)
from shared.auth import decode_token
from shared.settings import Settings

ISSUER = "https://sso.example.com/realms/gradeline"
SECRET = "s3cret/with:odd&chars"
PRODUCTION = {
    "environment": "production",
    "jwt_secret": "x" * 40,
    "seal_key": "y" * 40,
    "oidc_issuer": ISSUER,
}


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


def with_client(**changes: object) -> Settings:
    return Settings(  # type: ignore[arg-type]
        **{
            **PRODUCTION,
            "cli_client_id": "gradeline-cli",
            "cli_client_secret": SECRET,
            "oidc_roles_claim": "realm_access.roles",
            **changes,
        }
    )


def provider(
    seen: list[httpx.Request], *, roles: list[str], status: int = 200, issuer: str = ISSUER
) -> httpx.MockTransport:
    token = jwt.encode({"sub": "svc", "realm_access": {"roles": roles}}, "k" * 32)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/openid-configuration"):
            return httpx.Response(200, json={"issuer": issuer, "token_endpoint": f"{ISSUER}/tok"})
        if status != 200:
            return httpx.Response(status, json={"error": "invalid_client"})
        return httpx.Response(200, json={"access_token": token, "expires_in": 300})

    return httpx.MockTransport(answer)


def test_development_tokens_are_hs256_for_the_commands_role() -> None:
    settings = Settings(jwt_secret="x" * 40)
    token = command_token(settings, ["payroll"])
    principal = decode_token(token, settings.jwt_secret)
    assert (principal.sub, principal.roles) == ("gradeline-cli", {"payroll"})


def test_production_with_an_issuer_and_no_client_is_refused_up_front() -> None:
    with pytest.raises(CredentialsError, match="GRADELINE_CLI_CLIENT_ID"):
        command_token(Settings(**PRODUCTION), ["admin"])  # type: ignore[arg-type]
    with pytest.raises(CredentialsError, match="development"):
        require_development_tokens(Settings(**PRODUCTION), "the demo")  # type: ignore[arg-type]


def test_the_client_asks_the_discovered_token_endpoint_once_with_basic_auth() -> None:
    seen: list[httpx.Request] = []
    settings = with_client(cli_scopes="api://gradeline/.default")
    transport = provider(seen, roles=["admin", "payroll"])

    first = command_token(settings, ["admin"], transport=transport)
    again = command_token(settings, ["payroll"], transport=transport)

    assert first == again  # the client's token, reused until shortly before it expires
    discovery, token_request = seen
    assert str(discovery.url) == f"{ISSUER}/.well-known/openid-configuration"
    assert str(token_request.url) == f"{ISSUER}/tok"
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["api://gradeline/.default"],
    }
    scheme, encoded = token_request.headers["authorization"].split()
    # RFC 6749 2.3.1: the secret form-encoded inside the Basic credentials.
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "gradeline-cli:s3cret%2Fwith%3Aodd%26chars"


def test_a_refusal_names_the_error_and_the_settings_never_the_secret() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(CredentialsError) as refused:
        command_token(with_client(), ["admin"], transport=provider(seen, roles=[], status=401))
    said = str(refused.value)
    assert "invalid_client" in said and "GRADELINE_CLI_CLIENT_SECRET" in said
    assert SECRET not in said and SECRET not in repr(with_client())


def test_a_token_without_the_commands_role_is_refused_before_any_service_call() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(CredentialsError, match=r"carry the roles payroll .*needs admin"):
        command_token(
            with_client(), ["admin"], what="import", transport=provider(seen, roles=["payroll"])
        )


def test_a_discovery_document_of_another_issuer_is_refused() -> None:
    seen: list[httpx.Request] = []
    transport = provider(seen, roles=["admin"], issuer="https://elsewhere.example.com")
    with pytest.raises(CredentialsError, match="names the issuer"):
        command_token(with_client(), ["admin"], transport=transport)
    assert len(seen) == 1  # no secret sent to a token endpoint of the wrong issuer


def test_a_client_needs_its_secret_and_an_issuer() -> None:
    with pytest.raises(CredentialsError, match="GRADELINE_CLI_CLIENT_SECRET is not set"):
        command_token(with_client(cli_client_secret=""), ["admin"])
    with pytest.raises(CredentialsError, match="GRADELINE_OIDC_ISSUER is not"):
        command_token(with_client(environment="development", oidc_issuer=""), ["admin"])


def test_an_unreachable_provider_is_a_message() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(CredentialsError, match="not reachable"):
        command_token(with_client(), ["admin"], transport=httpx.MockTransport(down))
