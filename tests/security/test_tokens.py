"""Tokens that must not be trusted (docs/http.md, "Conventions": missing, expired or badly
signed token -> 401), on one route of each service: always a 401 problem with a Bearer
challenge, never a 403 (that would mean the token was believed) and never a 5xx."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from shared.auth import Role
from shared.problems import PROBLEM_JSON

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    # HS512 wants a 64-byte key; that token is refused for its algorithm, whatever its key.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

# A route each service guards, read by management (so a trusted token would get past 401).
ROUTES = {
    "enrollment": "/trainees",
    "training": "/board/progress",
    "assessment": "/board/grades",
    "compensation": "/payroll/2026-03",
}


def claims(**changes):
    now = int(time.time())
    body = {
        "sub": "boss",
        "roles": [Role.MANAGEMENT],
        "branch_id": None,
        "iat": now,
        "exp": now + 600,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def unsigned(payload: dict, alg: str) -> str:
    return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(payload)}."


def bad_tokens(secret: str) -> dict[str, str]:
    signed = jwt.encode(claims(), secret, algorithm="HS256")
    head, body, _ = signed.split(".")
    now = int(time.time())
    return {
        "no signature": f"{head}.{body}.",
        "alg none": unsigned(claims(), "none"),
        "alg None spelled otherwise": unsigned(claims(), "None"),
        "wrong key": jwt.encode(claims(), secret + "-not-it", algorithm="HS256"),
        "HS512 with the right key": jwt.encode(claims(), secret, algorithm="HS512"),
        "tampered payload": f"{head}.{b64(claims(roles=[Role.PAYROLL, Role.MANAGEMENT]))}.{signed.split('.')[2]}",
        "expired": jwt.encode(claims(iat=now - 7200, exp=now - 3600), secret, algorithm="HS256"),
        "not yet valid": jwt.encode(claims(nbf=now + 3600), secret, algorithm="HS256"),
        "no sub": jwt.encode(claims(sub=...), secret, algorithm="HS256"),
        "empty sub": jwt.encode(claims(sub=""), secret, algorithm="HS256"),
        "no roles": jwt.encode(claims(roles=...), secret, algorithm="HS256"),
        "roles not a list": jwt.encode(claims(roles="management"), secret, algorithm="HS256"),
        "no exp": jwt.encode(claims(exp=...), secret, algorithm="HS256"),
        "exp not a number": jwt.encode(claims(exp="tomorrow"), secret, algorithm="HS256"),
        "garbage": "not-a-jwt",
        "three dots of nothing": "..",
        "non-ascii": "токен.令牌.🔑",
    }


BAD = sorted(bad_tokens("only-the-names-are-read-here-32-bytes"))


@pytest.mark.parametrize("service", sorted(ROUTES))
@pytest.mark.parametrize("kind", BAD)
async def test_untrustworthy_token_is_401_problem(world, service, kind):
    token = bad_tokens(world.settings.jwt_secret)[kind]
    client = world.services[service].client
    authorization = ("Bearer " + token).encode()  # bytes: one token is not ASCII
    answer = await client.get(ROUTES[service], headers={"Authorization": authorization})
    assert answer.status_code == 401, (kind, answer.text)
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["status"] == 401


@pytest.mark.parametrize("service", sorted(ROUTES))
@pytest.mark.parametrize(
    "authorization", ["", "Bearer", "Bearer ", "Basic Ym9zczpwdw==", "bearer", "Token abc"]
)
async def test_missing_or_malformed_authorization_header_is_401(world, service, authorization):
    client = world.services[service].client
    answer = await client.get(ROUTES[service], headers={"Authorization": authorization})
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("service", sorted(ROUTES))
async def test_the_same_claims_properly_signed_are_trusted(world, service):
    """The control: what the bad tokens lack is all that keeps them out."""
    token = jwt.encode(claims(), world.settings.jwt_secret, algorithm="HS256")
    client = world.services[service].client
    answer = await client.get(ROUTES[service], headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
