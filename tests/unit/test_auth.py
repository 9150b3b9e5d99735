"""JWT authentication and role checks, against a bare FastAPI app (no database needed)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from shared.auth import (
    CurrentPrincipal,
    InvalidToken,
    Principal,
    Role,
    decode_token,
    mint_token,
    require_branch,
    require_roles,
)
from shared.problems import PROBLEM_JSON, install_problem_handlers
from shared.settings import Settings

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


def _b64(obj: object) -> str:
    raw = json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned_token(alg: str = "none", **claims: object) -> str:
    """A token with the given header alg and no signature, crafted by hand as an attacker would."""
    payload = {
        "sub": "mallory",
        "roles": ["after_sales_manager"],
        "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        **claims,
    }
    return f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(payload)}."


Clerk = Annotated[Principal, Depends(require_roles(Role.BRANCH_CLERK))]


def _app() -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(jwt_secret=SECRET, oidc_issuer=None)
    install_problem_handlers(app)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, object]:
        return {"sub": principal.sub, "roles": sorted(principal.roles)}

    @app.get("/branches/{branch_id}/clerk")
    async def clerk_only(branch_id: str, principal: Clerk) -> dict[str, str]:
        require_branch(principal, branch_id)
        return {"sub": principal.sub}

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_minted_token_round_trips_every_claim():
    token = mint_token(SECRET, "clerk-1", [Role.BRANCH_CLERK], branch_id="B1", department="hr")

    principal = decode_token(token, SECRET)

    assert principal == Principal("clerk-1", frozenset({"branch_clerk"}), "B1", "hr")


def test_principal_role_and_branch_helpers():
    principal = Principal("u", frozenset({"trainer", "examiner"}), branch_id="B1")

    assert principal.has_role(Role.EXAMINER, Role.PAYROLL)
    assert not principal.has_role(Role.PAYROLL)
    assert principal.acts_for_branch("B1")
    assert not principal.acts_for_branch("B2")
    assert not Principal("u", frozenset(), branch_id=None).acts_for_branch(None)
    assert principal.actor(Role.EXAMINER).role == "examiner"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (mint_token(SECRET, "u", ["trainer"], ttl_seconds=-5), "expired"),
        (mint_token("another-secret-of-sufficient-length-xx", "u", ["trainer"]), "invalid"),
        (_unsigned_token("none"), "invalid"),
        (_unsigned_token("HS256"), "invalid"),
        (jwt.encode({"sub": "u", "roles": ["trainer"]}, SECRET, algorithm="HS256"), "exp"),
        (
            jwt.encode({"roles": ["trainer"], "exp": 4102444800}, SECRET, algorithm="HS256"),
            "sub",
        ),
        (jwt.encode({"sub": "u", "exp": 4102444800}, SECRET, algorithm="HS256"), "roles"),
        (
            jwt.encode(
                {"sub": "u", "roles": "trainer", "exp": 4102444800}, SECRET, algorithm="HS256"
            ),
            "roles",
        ),
        (
            jwt.encode({"sub": "u", "roles": [], "exp": 4102444800}, SECRET * 2, algorithm="HS512"),
            "invalid",
        ),
        ("not-a-jwt", "invalid"),
    ],
    ids=[
        "expired",
        "wrong-secret",
        "alg-none",
        "no-signature",
        "no-exp",
        "no-sub",
        "no-roles",
        "roles-not-a-list",
        "hs512",
        "garbage",
    ],
)
def test_untrustworthy_tokens_are_refused(token, reason):
    with pytest.raises(InvalidToken, match=reason):
        decode_token(token, SECRET)


async def test_request_without_token_gets_401_problem_with_bearer_challenge(client):
    response = await client.get("/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_non_bearer_scheme_gets_401(client):
    response = await client.get("/me", headers={"Authorization": "Basic dTpw"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        mint_token(SECRET, "u", ["trainer"], ttl_seconds=-5),
        mint_token("another-secret-of-sufficient-length-xx", "u", ["trainer"]),
        _unsigned_token("none"),
        jwt.encode({"sub": "u", "exp": 4102444800}, SECRET, algorithm="HS256"),
    ],
    ids=["expired", "badly-signed", "alg-none", "missing-roles"],
)
async def test_untrustworthy_token_gets_401_problem(client, token):
    response = await client.get("/me", headers=_bearer(token))

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["title"] == "Unauthorized"


async def test_valid_token_reaches_the_route(client):
    token = mint_token(SECRET, "u-1", [Role.TRAINER, Role.EXAMINER])

    response = await client.get("/me", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json() == {"sub": "u-1", "roles": ["examiner", "trainer"]}


async def test_wrong_role_gets_403_problem(client):
    token = mint_token(SECRET, "t-1", [Role.TRAINER], branch_id="B1")

    response = await client.get("/branches/B1/clerk", headers=_bearer(token))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "branch_clerk" in response.json()["detail"]


async def test_clerk_of_another_branch_gets_403(client):
    token = mint_token(SECRET, "c-1", [Role.BRANCH_CLERK], branch_id="B2")

    refused = await client.get("/branches/B1/clerk", headers=_bearer(token))
    allowed = await client.get("/branches/B2/clerk", headers=_bearer(token))

    assert refused.status_code == 403
    assert allowed.status_code == 200


def test_require_roles_needs_a_role():
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()


def test_a_verified_token_is_remembered_only_until_it_expires():
    import time

    from shared import auth

    secret = "s" * 40
    token = auth.mint_token(secret, "u-cache", ["trainer"], ttl_seconds=1)
    assert auth.decode_token(token, secret).sub == "u-cache"
    assert (secret, None, None, token) in auth._VERIFIED  # the second check of this request is free
    time.sleep(1.1)
    with pytest.raises(auth.InvalidToken, match="expired"):
        auth.decode_token(token, secret)
    assert (secret, None, None, token) not in auth._VERIFIED
    with pytest.raises(auth.InvalidToken):  # the cache is keyed by the secret too
        auth.decode_token(auth.mint_token(secret, "u", ["trainer"]), "another-secret-" * 3)
