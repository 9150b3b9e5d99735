"""Tokens of a real OpenID Connect provider at a real service (ADR 0013; docs/http.md,
"Conventions"): the development provider of `make run` (ops/identity_provider.py) issues them
through Authorization Code + PKCE, and the enrollment app trusts them as its settings say.

Every refusal is a 401 problem with a Bearer challenge, never a 5xx; the tokens refused for one
claim are signed by the provider's own key, so that claim is all that keeps them out."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ops.identity_provider import demo_users, start_provider
from ops.oidc_login import refresh, sign_in
from services.enrollment.app import create_app
from shared.problems import PROBLEM_JSON
from shared.settings import Settings
from tests.support import (
    KEYCLOAK_TRAINEE,
    bearer,
    free_port,
    long_secret,
    ok,
    provider_token,
    register_branches,
    running,
    trusting,
)

# A guarded route that answers a trusted clerk without waiting for any read model: 404, no such
# trainee (a refused token gets 401 before the route is reached).
PROBE = "/trainees/t-none"
TRUSTED = 404
BODY = {
    "trainee_id": "t-oidc-1",
    "name": "李娜",
    "category": "branch_commissioned",
    "branch_id": "bo-east",
    "education": "high_school",
    "experience_years": 2,
    "certificates": ["electrician"],
    "product_series": ["X1"],
    "enrolled_on": "2026-03-01",
}


@pytest.fixture
async def service(settings, identity_provider):
    settings = trusting(long_secret(settings), identity_provider)
    async with running(create_app(settings), settings, "enrollment") as service:
        await register_branches(service)  # the branches the tests enrol at
        yield service


def refused(answer, reason: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert reason in answer.json()["detail"], answer.json()


def claims(provider, **changes):
    """The claims of a clerk's access token from ``provider``, with ``changes`` (... drops one)."""
    now = int(time.time())
    body = {
        "iss": provider.issuer,
        "aud": "gradeline",
        "sub": "clerk-bo-east",
        "roles": ["branch_clerk"],
        "branch_id": "bo-east",
        "iat": now,
        "exp": now + 600,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


async def test_a_token_of_the_provider_is_accepted_within_its_roles_and_branch(
    service, identity_provider
):
    clerk = bearer(provider_token(identity_provider, "clerk-bo-east"))
    enrolled = await service.client.post("/trainees", json=BODY, headers=clerk)
    assert enrolled.status_code == 201, enrolled.text
    shown = await service.client.get("/trainees/t-oidc-1", headers=clerk)
    assert shown.status_code == 200, shown.text
    elsewhere = {**BODY, "trainee_id": "t-oidc-2", "branch_id": "dl-north"}
    other_branch = await service.client.post("/trainees", json=elsewhere, headers=clerk)
    assert other_branch.status_code == 403, other_branch.text
    trainee = bearer(provider_token(identity_provider, "d7n200-bo-east-001"))
    assert (await service.client.get("/trainees", headers=trainee)).status_code == 403
    nobody = bearer(provider_token(identity_provider, "no-roles"))
    assert (await service.client.get("/trainees", headers=nobody)).status_code == 403


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-api"}, "not for this audience"),
        ({"aud": ...}, "'aud'"),
        ({"iss": "http://127.0.0.1:1/elsewhere"}, "not from the configured issuer"),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"exp": ...}, "'exp'"),
        ({"sub": ...}, "'sub'"),
        ({"roles": "branch_clerk"}, "not a list of role names"),
    ],
    ids=[
        "wrong-aud",
        "no-aud",
        "wrong-iss",
        "expired",
        "nbf-future",
        "no-exp",
        "no-sub",
        "roles-text",
    ],
)
async def test_a_token_signed_by_the_provider_with_a_bad_claim_is_401(
    service, identity_provider, changes, reason
):
    control = identity_provider.sign(claims(identity_provider))
    assert (await service.client.get(PROBE, headers=bearer(control))).status_code == TRUSTED
    token = identity_provider.sign(claims(identity_provider, **changes))
    refused(await service.client.get(PROBE, headers=bearer(token)), reason)


async def test_a_key_the_provider_never_published_is_401(service, identity_provider):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims(identity_provider), stranger, algorithm="RS256", headers={"kid": "not-published"}
    )
    refused(await service.client.get(PROBE, headers=bearer(token)), "does not publish")
    current_kid = jwt.get_unverified_header(identity_provider.sign(claims(identity_provider)))
    forged = jwt.encode(claims(identity_provider), stranger, algorithm="RS256", headers=current_kid)
    refused(await service.client.get(PROBE, headers=bearer(forged)), "invalid")


async def test_alg_none_and_hs256_are_refused_in_production(settings, identity_provider):
    production = trusting(long_secret(settings), identity_provider, environment="production")
    async with running(create_app(production), production, "enrollment") as service:
        hs256 = jwt.encode(claims(identity_provider), production.jwt_secret, algorithm="HS256")
        refused(await service.client.get(PROBE, headers=bearer(hs256)), "HS256")
        header, body, _ = identity_provider.sign(claims(identity_provider)).split(".")
        unsigned = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
        for token in (f"{unsigned}.{body}.", f"{header}.{body}."):
            refused(await service.client.get(PROBE, headers=bearer(token)), "")
        issued = bearer(provider_token(identity_provider, "clerk-bo-east"))
        assert (await service.client.get(PROBE, headers=issued)).status_code == TRUSTED


async def test_hs256_development_tokens_stay_valid_beside_the_issuer_in_test(service):
    answer = await service.client.get(PROBE, headers=service.as_("boss", "management"))
    assert answer.status_code == TRUSTED, answer.text


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_a_key_rotation_at_the_provider_is_picked_up_without_restart(
    service, identity_provider, alg
):
    before = bearer(provider_token(identity_provider, "clerk-bo-east"))
    assert (await service.client.get(PROBE, headers=before)).status_code == TRUSTED
    kid = identity_provider.rotate_key(alg)
    after = provider_token(identity_provider, "clerk-bo-east")
    assert jwt.get_unverified_header(after) == {"alg": alg, "typ": "at+jwt", "kid": kid}
    answer = await service.client.get(PROBE, headers=bearer(after))
    assert answer.status_code == TRUSTED, answer.text
    # The previous key stays published for the tokens issued before the rotation.
    assert (await service.client.get(PROBE, headers=before)).status_code == TRUSTED


async def test_roles_and_branch_are_read_from_nested_claims(settings, identity_provider):
    keycloak = trusting(
        long_secret(settings),
        identity_provider,
        oidc_roles_claim="realm_access.roles",
        oidc_branch_claim="org.branch",
    )
    async with running(create_app(keycloak), keycloak, "enrollment") as service:
        await register_branches(service)
        clerk = bearer(provider_token(identity_provider, "kc-clerk-bo-west"))
        body = {**BODY, "trainee_id": "t-oidc-kc", "branch_id": "bo-west"}
        enrolled = await service.client.post("/trainees", json=body, headers=clerk)
        assert enrolled.status_code == 201, enrolled.text
        east = {**body, "trainee_id": "t-oidc-kc2", "branch_id": "bo-east"}
        assert (await service.client.post("/trainees", json=east, headers=clerk)).status_code == 403
        flat = bearer(provider_token(identity_provider, "clerk-bo-east"))  # roles not nested
        assert (await service.client.get(PROBE, headers=flat)).status_code == 403


async def test_a_refreshed_token_is_accepted_and_an_id_token_is_not(service, identity_provider):
    tokens = sign_in(identity_provider.issuer, "clerk-bo-east")
    assert tokens.refresh_token and tokens.id_token
    renewed = refresh(identity_provider.issuer, tokens.refresh_token)
    assert renewed.access_token != tokens.access_token
    answer = await service.client.get(PROBE, headers=bearer(renewed.access_token))
    assert answer.status_code == TRUSTED, answer.text
    # The ID token is signed by the same provider but is for the web client, not the API.
    refused(await service.client.get(PROBE, headers=bearer(tokens.id_token)), "audience")


async def test_a_provider_that_cannot_be_reached_is_503_for_new_keys_never_500(settings):
    alone = start_provider(Settings(), port=free_port(), users=demo_users()[:1])
    settings = trusting(long_secret(settings), alone)
    try:
        async with running(create_app(settings), settings, "enrollment") as service:
            known = bearer(provider_token(alone, demo_users()[0].sub))
            assert (await service.client.get(PROBE, headers=known)).status_code == TRUSTED
            alone.rotate_key()
            unknown = bearer(provider_token(alone, demo_users()[0].sub))
            alone.stop()
            down = await service.client.get(PROBE, headers=unknown)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert "identity provider" in down.json()["detail"]
            # The keys fetched before the outage go on working.
            assert (await service.client.get(PROBE, headers=known)).status_code == TRUSTED
    finally:
        alone.stop()


async def test_the_caller_is_the_one_the_subject_claim_names(settings, identity_provider):
    """A Keycloak-shaped user: its ``sub`` is the provider's uuid, its trainee id is its user
    name (``preferred_username``). With the subject claim set there, the trainee reads its own
    record; left at ``sub``, the uuid is nobody Gradeline knows: the record is not theirs (404,
    as for any trainee's record another trainee asks for)."""
    mapped = trusting(
        long_secret(settings), identity_provider, oidc_subject_claim="preferred_username"
    )
    trainee_id = KEYCLOAK_TRAINEE.token_claims()["preferred_username"]
    token = provider_token(identity_provider, KEYCLOAK_TRAINEE.sub)
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == KEYCLOAK_TRAINEE.sub
    async with running(create_app(mapped), mapped, "enrollment") as service:
        await register_branches(service)
        manager = service.as_("mgr", "after_sales_manager")
        body = {**BODY, "trainee_id": trainee_id}
        await ok(service.client.post("/trainees", json=body, headers=manager), 201)
        own = await ok(service.client.get(f"/trainees/{trainee_id}", headers=bearer(token)))
        assert own["trainee_id"] == trainee_id
        # A token of the provider without the mapped claim names no one: 401 naming the claim.
        unnamed = identity_provider.sign(claims(identity_provider, sub=KEYCLOAK_TRAINEE.sub))
        refused(
            await service.client.get(PROBE, headers=bearer(unnamed)),
            "lacks the 'preferred_username' claim",
        )
        # Only the mapped claim is needed (Keycloak's lightweight access tokens carry no sub).
        no_sub = claims(identity_provider, sub=..., preferred_username="clerk-bo-east")
        answer = await service.client.get(PROBE, headers=bearer(identity_provider.sign(no_sub)))
        assert answer.status_code == TRUSTED, answer.text

    by_sub = trusting(long_secret(settings), identity_provider)
    async with running(create_app(by_sub), by_sub, "enrollment") as service:
        await register_branches(service)
        manager = service.as_("mgr", "after_sales_manager")
        body = {**BODY, "trainee_id": trainee_id}
        await ok(service.client.post("/trainees", json=body, headers=manager), 201)
        stranger = await service.client.get(f"/trainees/{trainee_id}", headers=bearer(token))
        assert stranger.status_code == 404, stranger.text


async def test_the_pages_sign_in_with_the_scopes_auth_config_serves(settings, identity_provider):
    """GRADELINE_OIDC_SCOPES reaches the pages through GET /auth/config; a sign-in asking the
    provider for exactly those gets an access token the services take, and a refresh token
    (``offline_access``) that renews it."""
    scopes = ["openid", "profile", "offline_access"]
    scoped = trusting(long_secret(settings), identity_provider, oidc_scopes=scopes)
    async with running(create_app(scoped), scoped, "enrollment") as service:
        config = await ok(service.client.get("/auth/config"))
        assert (config["issuer"], config["scopes"]) == (identity_provider.issuer, scopes)
        tokens = sign_in(
            config["issuer"],
            "clerk-bo-east",
            client_id=config["client_id"],
            scope=" ".join(config["scopes"]),
        )
        answer = await service.client.get(PROBE, headers=bearer(tokens.access_token))
        assert answer.status_code == TRUSTED, answer.text
        assert tokens.refresh_token
        renewed = refresh(identity_provider.issuer, tokens.refresh_token)
        answer = await service.client.get(PROBE, headers=bearer(renewed.access_token))
        assert answer.status_code == TRUSTED, answer.text
