"""Signing in at the development provider as a browser would, over HTTP (tests, tools).

Authorization Code with PKCE (RFC 7636, S256) for the public web client: the authorization
request, the provider's sign-in form (ops/idp/server.mjs: the user's sub, any password), the
redirect with the code, and the code exchanged at the token endpoint with the verifier. The
redirect URI need not be served: the code is read from the redirect itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from ops.identity_provider import TEST_REDIRECT_URI

SCOPE = "openid profile offline_access gradeline"
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


class SignInError(RuntimeError):
    """The provider did not sign the user in; the message says where it stopped."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str | None
    refresh_token: str | None
    expires_in: int


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def discover(issuer: str, client: httpx.Client) -> dict[str, Any]:
    answer = client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def sign_in(
    issuer: str,
    sub: str,
    *,
    client_id: str = "gradeline-web",
    redirect_uri: str = TEST_REDIRECT_URI,
    scope: str = SCOPE,
) -> Tokens:
    """The tokens the provider issues to ``client_id`` when ``sub`` signs in."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        endpoints = discover(issuer, client)
        answer = client.get(
            endpoints["authorization_endpoint"],
            params={
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": scope,
                "state": state,
                "nonce": secrets.token_urlsafe(16),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        code = _follow_to_code(client, answer, sub, redirect_uri, state)
        return _grant(
            client,
            endpoints,
            client_id,
            "authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=verifier,
        )


def refresh(issuer: str, refresh_token: str, *, client_id: str = "gradeline-web") -> Tokens:
    """New tokens for a refresh token (the provider rotates the refresh token too)."""
    with httpx.Client(timeout=10) as client:
        endpoints = discover(issuer, client)
        return _grant(client, endpoints, client_id, "refresh_token", refresh_token=refresh_token)


def _follow_to_code(
    client: httpx.Client, answer: httpx.Response, sub: str, redirect_uri: str, state: str
) -> str:
    for _ in range(8):  # authorize -> sign-in form -> authorize again -> redirect with the code
        if answer.status_code == 200 and 'name="login"' in answer.text:
            action = _FORM_ACTION.search(answer.text)
            if action is None:
                raise SignInError("the sign-in form has no action")
            answer = client.post(
                urljoin(str(answer.url), action.group(1)),
                data={"prompt": "login", "login": sub, "password": "demo"},
            )
            continue
        location = answer.headers.get("location")
        if not answer.is_redirect or location is None:
            raise SignInError(
                f"stopped at {answer.url} ({answer.status_code}): {answer.text[:300]}"
            )
        target = urljoin(str(answer.url), location)
        if target.startswith(redirect_uri):
            query = parse_qs(urlsplit(target).query)
            if query.get("state") != [state] or "code" not in query:
                raise SignInError(f"the provider answered {query}")
            return str(query["code"][0])
        answer = client.get(target)
    raise SignInError(f"no code after the sign-in of {sub!r}")


def _grant(
    client: httpx.Client, endpoints: dict[str, Any], client_id: str, grant_type: str, **form: str
) -> Tokens:
    """The tokens the token endpoint grants ``client_id`` for ``grant_type`` with ``form``."""
    data = {"grant_type": grant_type, **form, "client_id": client_id}
    return _tokens(client.post(endpoints["token_endpoint"], data=data))


def _tokens(answer: httpx.Response) -> Tokens:
    if answer.status_code != 200:
        raise SignInError(f"token endpoint: {answer.status_code} {answer.text[:300]}")
    body = answer.json()
    return Tokens(
        access_token=body["access_token"],
        id_token=body.get("id_token"),
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in", 0)),
    )
