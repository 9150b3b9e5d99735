"""Tokens of an OpenID Connect issuer without a provider (ADR 0013): where the claims are read,
when the key set is fetched, the settings, and which tokens are taken in which environment. The
real provider is in tests/integration/test_oidc.py."""

from __future__ import annotations

import time
from urllib.error import URLError

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from shared import auth, oidc
from shared.settings import Settings

ISSUER = "https://sso.example.com/realms/gradeline"
SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
SEAL = "unit-test-seal-key-long-enough-for-hmac"


# --- claims -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "path", "expected"),
    [
        ({"roles": ["a"]}, "roles", ["a"]),
        ({"realm_access": {"roles": ["a", "b"]}}, "realm_access.roles", ["a", "b"]),
        ({"a": {"b": {"c": "deep"}}}, "a.b.c", "deep"),
        ({"https://gradeline.example/roles": ["a"]}, "https://gradeline.example/roles", ["a"]),
        ({"realm_access": ["not", "an", "object"]}, "realm_access.roles", None),
        ({"realm_access": {}}, "realm_access.roles", None),
        ({}, "roles", None),
    ],
    ids=[
        "flat",
        "keycloak",
        "three-deep",
        "namespaced-with-dots",
        "not-an-object",
        "absent",
        "none",
    ],
)
def test_a_claim_is_found_at_its_dotted_path(claims, path, expected):
    assert oidc.claim_at(claims, path) == expected


KEYCLOAK = oidc.ClaimPaths("realm_access.roles", "attributes.branch", "attributes.department")


def test_roles_branch_and_department_are_read_where_the_settings_say():
    claims = {
        "sub": "u-1",
        "roles": ["management"],  # not where Keycloak's realm roles are: ignored
        "realm_access": {"roles": ["branch_clerk", "offline_access"]},
        "attributes": {"branch": ["bo-east"], "department": "hr"},  # a one-value list is the value
    }
    identity = oidc.read_identity(claims, KEYCLOAK)
    assert identity == oidc.Identity(
        "u-1", frozenset({"branch_clerk", "offline_access"}), "bo-east", "hr"
    )
    assert oidc.read_identity({"sub": "u-2"}, KEYCLOAK) == oidc.Identity(
        "u-2", frozenset(), None, None
    )


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"roles": ["a"]}, "sub"),
        ({"sub": "", "roles": ["a"]}, "sub"),
        ({"sub": "u", "roles": "branch_clerk"}, "'roles' is not a list"),
        ({"sub": "u", "roles": [1]}, "'roles' is not a list"),
        ({"sub": "u", "roles": [], "branch_id": ["a", "b"]}, "'branch_id' is not a single"),
        ({"sub": "u", "roles": [], "department": {"x": 1}}, "'department' is not a single"),
    ],
)
def test_malformed_claims_are_refused_naming_the_claim(claims, reason):
    with pytest.raises(oidc.TokenRejected, match=reason):
        oidc.read_identity(claims, oidc.ClaimPaths())


def test_the_subject_is_read_where_the_settings_say():
    """Keycloak's ``sub`` is its internal user id: a company maps the ids Gradeline knows people
    by (trainee, trainer, examiner ids) from another claim, such as the user name or an
    attribute; a one-value list is the value, as for the branch."""
    claims = {
        "sub": "8d1e0c7a-2f4b-4e8e-9a51-0c3f1f0b9e11",
        "preferred_username": "t-0042",
        "attributes": {"employee_id": ["tr-liu"]},
        "roles": ["trainee"],
    }
    by_name = oidc.ClaimPaths(subject="preferred_username")
    assert oidc.read_identity(claims, by_name).sub == "t-0042"
    by_attribute = oidc.ClaimPaths(subject="attributes.employee_id")
    assert oidc.read_identity(claims, by_attribute).sub == "tr-liu"
    assert oidc.read_identity(claims, oidc.ClaimPaths()).sub == claims["sub"]  # the default
    # Only the subject claim is needed: a token without ``sub`` (Keycloak's lightweight access
    # tokens) names its caller by the mapped claim.
    without_sub = {k: v for k, v in claims.items() if k != "sub"}
    assert oidc.read_identity(without_sub, by_name).sub == "t-0042"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"sub": "u"}, "lacks the 'preferred_username' claim"),
        ({"sub": "u", "preferred_username": ""}, "lacks the 'preferred_username' claim"),
        ({"sub": "u", "preferred_username": ["a", "b"]}, "'preferred_username' is not a single"),
        ({"sub": "u", "preferred_username": 42}, "'preferred_username' is not a single"),
    ],
)
def test_a_token_without_a_usable_subject_claim_is_refused_naming_it(claims, reason):
    with pytest.raises(oidc.TokenRejected, match=reason):
        oidc.read_identity(claims, oidc.ClaimPaths(subject="preferred_username"))


# --- the key set ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rsa_jwk(kid: str) -> tuple[rsa.RSAPrivateKey, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return key, {**public, "kid": kid, "use": "sig"}


class FakeProvider:
    """Discovery and a JWKS as dictionaries; counts the key-set fetches."""

    def __init__(self, *jwks: dict) -> None:
        self.jwks = list(jwks)
        self.fetches = 0
        self.down = False

    def get_json(self, url: str):
        if self.down:
            raise URLError("connection refused")
        assert url == ISSUER + "/.well-known/openid-configuration"
        return {"issuer": ISSUER, "jwks_uri": ISSUER + "/certs"}

    def install(self, monkeypatch) -> None:
        def fetch_data(client):
            if self.down:
                raise jwt.PyJWKClientConnectionError("connection refused")
            self.fetches += 1
            return {"keys": self.jwks}

        monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)


@pytest.fixture
def provider(monkeypatch):
    provider = FakeProvider(rsa_jwk("k1")[1])
    provider.install(monkeypatch)
    return provider


def keys_of(provider: FakeProvider, clock: Clock, refetch: float = 10) -> oidc.IssuerKeys:
    return oidc.IssuerKeys(ISSUER, refetch, clock=clock, get_json=provider.get_json)


def test_an_unknown_kid_fetches_the_set_again_at_most_once_per_interval(provider):
    clock = Clock()
    keys = keys_of(provider, clock)
    assert keys.fetch("k1") is not None and provider.fetches == 1
    for made_up in ("x1", "x2", "x3"):  # a flood of invented kids: one fetch is all they get
        assert keys.may_fetch(made_up) is False
    clock.now += 10
    assert keys.may_fetch("x4") is True
    assert keys.fetch("x4") is None and provider.fetches == 2
    provider.jwks.append(rsa_jwk("k2")[1])  # the provider rotates
    assert keys.may_fetch("k2") is False  # too soon after the fetch that found no x4
    clock.now += 10
    assert keys.fetch("k2") is not None and provider.fetches == 3
    assert keys.lookup("k1") is not None and keys.may_fetch("k1") is False


def test_the_set_is_fetched_again_when_old_and_kept_when_that_fails(provider):
    clock = Clock()
    keys = keys_of(provider, clock)
    keys.fetch("k1")
    clock.now += oidc.KEYS_MAX_AGE_SECONDS + 1
    assert keys.lookup("k1") is None and keys.may_fetch("k1")
    provider.down = True
    assert keys.fetch("k1") is not None  # the provider is down: the known key still serves
    with pytest.raises(oidc.KeysUnavailable, match="cannot be fetched"):
        clock.now += 10
        keys.fetch("k9")
    provider.down = False
    provider.jwks = [rsa_jwk("k2")[1]]  # k1 withdrawn
    clock.now += 10
    assert keys.fetch("k1") is None  # no longer trusted once the set is fetched again


def test_the_set_keeps_only_rs256_and_es256_keys(monkeypatch):
    hmac = {"kty": "oct", "k": "c2VjcmV0", "kid": "h1", "alg": "HS256"}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    es = {**jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "e1"}
    ps = {**rsa_jwk("p1")[1], "alg": "PS256"}
    provider = FakeProvider(hmac, es, ps, rsa_jwk("r1")[1])
    provider.install(monkeypatch)
    keys = keys_of(provider, Clock())
    keys.fetch("r1")
    assert {kid for kid in ("h1", "e1", "p1", "r1") if keys.known(kid)} == {"e1", "r1"}


def test_discovery_must_name_the_configured_issuer(monkeypatch):
    keys = oidc.IssuerKeys(
        ISSUER, 10, get_json=lambda url: {"issuer": ISSUER + "/", "jwks_uri": ISSUER + "/certs"}
    )
    with pytest.raises(oidc.KeysUnavailable, match="names issuer"):
        keys.fetch("k1")


# --- settings and which tokens are taken ------------------------------------------------------


def test_oidc_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADELINE_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("GRADELINE_OIDC_AUDIENCE", "api://gradeline")
    monkeypatch.setenv("GRADELINE_OIDC_ROLES_CLAIM", "realm_access.roles")
    monkeypatch.setenv("GRADELINE_OIDC_BRANCH_CLAIM", "branch")
    monkeypatch.setenv("GRADELINE_OIDC_DEPARTMENT_CLAIM", "ext.dept")
    monkeypatch.setenv("GRADELINE_OIDC_CLIENT_ID", "web")
    monkeypatch.setenv("GRADELINE_OIDC_SUBJECT_CLAIM", "preferred_username")
    monkeypatch.setenv(
        "GRADELINE_OIDC_SCOPES", "openid profile offline_access api://gradeline/.default"
    )
    settings = Settings()
    assert settings.oidc_subject_claim == "preferred_username"
    assert settings.oidc_scopes == [
        "openid",
        "profile",
        "offline_access",
        "api://gradeline/.default",
    ]
    assert (settings.oidc_issuer, settings.oidc_audience, settings.oidc_client_id) == (
        ISSUER,
        "api://gradeline",
        "web",
    )
    assert (settings.oidc_roles_claim, settings.oidc_branch_claim) == (
        "realm_access.roles",
        "branch",
    )
    monkeypatch.setenv("GRADELINE_OIDC_ISSUER", "")
    assert Settings().oidc_issuer is None


def test_oidc_defaults():
    settings = Settings(oidc_issuer=None)
    assert (settings.oidc_audience, settings.oidc_client_id) == ("gradeline", "gradeline-web")
    assert (
        settings.oidc_roles_claim,
        settings.oidc_branch_claim,
        settings.oidc_department_claim,
    ) == (
        "roles",
        "branch_id",
        "department",
    )
    assert settings.oidc_subject_claim == "sub"
    assert settings.oidc_scopes == ["openid", "profile", "email"]  # what the pages asked before


@pytest.mark.parametrize(
    ("text", "scopes"),
    [
        ("openid profile email", ["openid", "profile", "email"]),  # as OAuth writes them
        ("openid,profile, offline_access", ["openid", "profile", "offline_access"]),
        ('["openid", "api://gradeline/.default"]', ["openid", "api://gradeline/.default"]),
    ],
)
def test_the_scopes_are_a_space_or_comma_separated_list_or_json(monkeypatch, text, scopes):
    monkeypatch.setenv("GRADELINE_OIDC_SCOPES", text)
    assert Settings().oidc_scopes == scopes


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"oidc_issuer": "sso.example.com"}, "http"),
        ({"oidc_issuer": "ftp://sso.example.com"}, "http"),
        ({"oidc_issuer": ISSUER + "?realm=x"}, "no query"),
        ({"oidc_roles_claim": "realm_access..roles"}, "oidc_roles_claim"),
        ({"oidc_branch_claim": ".branch"}, "oidc_branch_claim"),
        ({"oidc_department_claim": "dept "}, "oidc_department_claim"),
        ({"oidc_audience": ""}, "oidc_audience"),
        ({"oidc_subject_claim": "a..b"}, "oidc_subject_claim"),
        ({"oidc_scopes": ["profile", "email"]}, "openid"),  # the pages need the ID token
        ({"oidc_scopes": ["openid", 'pro"file']}, "scope"),  # RFC 6749 3.3: no quote, no space
        ({"oidc_scopes": ["openid", "a b"]}, "scope"),
        ({"oidc_jwks_refetch_seconds": -1}, "oidc_jwks_refetch_seconds"),
    ],
)
def test_malformed_oidc_settings_are_refused(changes, reason):
    with pytest.raises(ValidationError, match=reason):
        Settings(**changes)


def test_production_fetches_the_keys_over_https_unless_the_provider_is_local():
    production = {"environment": "production", "jwt_secret": SECRET, "seal_key": SEAL}
    with pytest.raises(ValidationError, match="https"):
        Settings(oidc_issuer="http://sso.example.com/realms/g", **production)
    assert Settings(oidc_issuer="http://127.0.0.1:9400", **production).oidc_issuer
    assert Settings(
        oidc_issuer="http://keycloak:8080/realms/g",
        environment="test",
        jwt_secret=SECRET,
        seal_key=SEAL,
    )


@pytest.mark.parametrize(
    ("environment", "issuer", "taken"),
    [
        ("development", ISSUER, True),
        ("test", ISSUER, True),
        ("production", ISSUER, False),
        ("production", None, True),  # no issuer: HS256 is the only kind, as before
    ],
)
async def test_hs256_is_taken_beside_an_issuer_only_in_development_and_test(
    environment, issuer, taken
):
    settings = Settings(
        environment=environment, oidc_issuer=issuer, jwt_secret=SECRET, seal_key=SEAL
    )
    assert settings.accepts_hs256() is taken
    token = auth.mint_token(SECRET, "boss", ["management"])
    if taken:
        assert (await auth.verify_token(token, settings)).sub == "boss"
    else:
        with pytest.raises(auth.InvalidToken, match="HS256 tokens are refused in production"):
            await auth.verify_token(token, settings)


async def test_an_unreachable_provider_is_a_503_with_retry_after_not_a_401_or_500():
    settings = Settings(oidc_issuer="http://127.0.0.1:9/unreachable", oidc_jwks_refetch_seconds=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": settings.oidc_issuer, "aud": "gradeline", "sub": "u", "exp": now + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(auth.Problem) as refused:
        await auth.authenticate(f"Bearer {token}", settings)
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"] == str(auth.KEYS_RETRY_AFTER_SECONDS)
    assert "identity provider" in (refused.value.detail or "")


async def test_a_remembered_token_is_remembered_per_verifier(monkeypatch):
    """The verified-token cache is keyed by the issuer, audience and claim paths too: a token
    trusted under one configuration is not taken from the cache under another."""
    key, jwk = rsa_jwk("kc1")
    provider = FakeProvider(jwk)
    provider.install(monkeypatch)
    issuer = ISSUER + "/cache"
    monkeypatch.setitem(
        oidc._KEYS,
        (issuer, 0.0),
        oidc.IssuerKeys(
            issuer, 0.0, get_json=lambda url: {"issuer": issuer, "jwks_uri": issuer + "/certs"}
        ),
    )
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "gradeline",
        "sub": "u",
        "exp": now + 60,
        "roles": ["management"],
        "realm_access": {"roles": ["auditor"]},
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "kc1"})
    flat = Settings(oidc_issuer=issuer, oidc_jwks_refetch_seconds=0)
    nested = flat.model_copy(update={"oidc_roles_claim": "realm_access.roles"})
    other_api = flat.model_copy(update={"oidc_audience": "another-api"})
    # an object: no subject, though the same token names one at ``sub``
    by_name = flat.model_copy(update={"oidc_subject_claim": "realm_access"})
    assert (await auth.verify_token(token, flat)).roles == {"management"}
    with pytest.raises(auth.InvalidToken, match="'realm_access' is not a single"):
        await auth.verify_token(token, by_name)
    assert (await auth.verify_token(token, nested)).roles == {"auditor"}
    assert (await auth.verify_token(token, flat)).roles == {"management"}
    with pytest.raises(auth.InvalidToken, match="audience"):
        await auth.verify_token(token, other_api)
    assert provider.fetches == 1  # one key set for the issuer, whatever the verifier
