"""The bearer token a ``gradeline`` command calls the services with (docs/identity.md, "The
command line"; ADR 0013).

- With ``GRADELINE_CLI_CLIENT_ID`` set: an access token of the issuer
  (``GRADELINE_OIDC_ISSUER``) for that confidential client, obtained with the client-credentials
  grant (RFC 6749 4.4) at the token endpoint its discovery document names, the client
  authenticated with ``GRADELINE_CLI_CLIENT_SECRET`` (HTTP Basic, ``client_secret_basic``).
  The token carries the roles the provider gives the client's service account: the command
  cannot choose them, so it checks the one it needs is there before calling a service.
- Otherwise an HS256 token signed with ``GRADELINE_JWT_SECRET`` for the role the command needs,
  as before, refused up front where the services refuse them (``production`` with an issuer).

Every failure is a :class:`CredentialsError` whose message says what to fix; the client secret
is never part of one (nor of a log line).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from shared.auth import mint_token_for
from shared.oidc import claim_at
from shared.settings import Settings

CLI_SUBJECT = "gradeline-cli"  # the ``sub`` of the HS256 tokens the command mints
# A token is used again until this long before its expiry (a command's calls take seconds).
RENEW_BEFORE_SECONDS = 30.0
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class CredentialsError(RuntimeError):
    """No token for the command: misconfigured, refused by the provider, or unreachable."""


@dataclass(frozen=True)
class _Cached:
    token: str
    expires: float  # time.monotonic()


# (issuer, client id, scopes) -> the client's token, reused by the calls of one command.
_tokens: dict[tuple[str, str, tuple[str, ...]], _Cached] = {}


def command_token(
    settings: Settings,
    roles: Iterable[str],
    *,
    what: str = "this command",
    ttl_seconds: int = 300,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """A bearer token with ``roles`` for ``what`` (one of them suffices for the routes each
    command calls); ``transport`` lets tests answer for the provider."""
    needed = [str(role) for role in roles]
    if settings.cli_client_id is not None:
        token = client_credentials_token(settings, transport=transport)
        _check_roles(token, settings, needed, what)
        return token
    if not settings.accepts_hs256():
        raise CredentialsError(
            f"{what} cannot mint a token: the services refuse HS256 tokens in production with"
            f" an issuer ({settings.oidc_issuer}); set GRADELINE_CLI_CLIENT_ID and"
            " GRADELINE_CLI_CLIENT_SECRET to a client of that issuer with the client-credentials"
            " grant (docs/identity.md)"
        )
    return mint_token_for(settings, CLI_SUBJECT, needed, ttl_seconds=ttl_seconds)


def require_development_tokens(settings: Settings, what: str) -> None:
    """For commands that act as many people (the demo loader: clerks, trainers, examiners),
    which only development tokens can do: a clear refusal where the services refuse those."""
    if not settings.accepts_hs256():
        raise CredentialsError(
            f"{what} acts as many people with development (HS256) tokens, which the services"
            f" refuse in production with an issuer ({settings.oidc_issuer}); run it against a"
            " development or test deployment"
        )


def client_credentials_token(
    settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> str:
    """The client's access token from the issuer's token endpoint (cached until shortly
    before it expires)."""
    client_id, issuer = settings.cli_client_id, settings.oidc_issuer
    if client_id is None:
        raise CredentialsError("GRADELINE_CLI_CLIENT_ID is not set")
    if issuer is None:
        raise CredentialsError(
            "GRADELINE_CLI_CLIENT_ID is set but GRADELINE_OIDC_ISSUER is not: the client's"
            " token comes from the issuer's token endpoint"
        )
    if settings.cli_client_secret is None:
        raise CredentialsError(f"GRADELINE_CLI_CLIENT_SECRET is not set (client {client_id})")
    key = (issuer, client_id, tuple(settings.cli_scopes))
    cached = _tokens.get(key)
    if cached is not None and cached.expires > time.monotonic():
        return cached.token
    with httpx.Client(transport=transport, timeout=TIMEOUT) as http:
        endpoint = _token_endpoint(http, issuer)
        form = {"grant_type": "client_credentials"}
        if settings.cli_scopes:
            form["scope"] = " ".join(settings.cli_scopes)
        # RFC 6749 2.3.1: id and secret form-encoded before they go into the Basic header.
        secret = settings.cli_client_secret.get_secret_value()
        auth = httpx.BasicAuth(quote(client_id, safe=""), quote(secret, safe=""))
        try:
            answer = http.post(endpoint, data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise CredentialsError(
                f"the identity provider's token endpoint {endpoint} is not reachable: {exc}"
            ) from None
    body = _json(answer)
    if answer.status_code != 200:
        error = body.get("error") or f"HTTP {answer.status_code}"
        description = body.get("error_description")
        raise CredentialsError(
            f"the identity provider refused the client credentials of {client_id} at {endpoint}:"
            f" {error}" + (f" ({description})" if description else "") + _hint(str(error))
        )
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise CredentialsError(f"{endpoint} answered no access_token for client {client_id}")
    lifetime = body.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) else 60.0
    _tokens[key] = _Cached(token, time.monotonic() + max(0.0, seconds - RENEW_BEFORE_SECONDS))
    return token


def forget_tokens() -> None:
    """Drop the cached client tokens (a test changing the client's settings)."""
    _tokens.clear()


def _token_endpoint(http: httpx.Client, issuer: str) -> str:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = http.get(url)
    except httpx.HTTPError as exc:
        raise CredentialsError(f"the identity provider is not reachable at {url}: {exc}") from None
    document = _json(answer)
    if answer.status_code != 200 or not document:
        raise CredentialsError(f"{url} answered {answer.status_code}, not a discovery document")
    if document.get("issuer") != issuer:
        raise CredentialsError(
            f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}"
            " (GRADELINE_OIDC_ISSUER must be spelt as the provider spells it)"
        )
    endpoint = document.get("token_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise CredentialsError(f"{url} names no token_endpoint")
    return endpoint


def _hint(error: str) -> str:
    return {
        "invalid_client": "; check GRADELINE_CLI_CLIENT_ID and GRADELINE_CLI_CLIENT_SECRET",
        "unauthorized_client": "; the client may not use the client-credentials grant",
        "invalid_scope": "; check GRADELINE_CLI_SCOPES",
    }.get(error, "")


def _check_roles(token: str, settings: Settings, needed: list[str], what: str) -> None:
    """Refuse before calling a service when the client's token lacks every role ``what``
    needs (the service would answer 403). A token that is no JWT is left to the service."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return
    held = claim_at(claims, settings.oidc_roles_claim)
    held = [held] if isinstance(held, str) else list(held or [])
    if not set(needed) & set(held):
        carried = ", ".join(sorted(map(str, held))) or "none"
        raise CredentialsError(
            f"the tokens of the client {settings.cli_client_id} carry the roles {carried} (at"
            f" {settings.oidc_roles_claim}); {what} needs {' or '.join(needed)}: give the"
            " client's service account that role at the provider"
        )


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
