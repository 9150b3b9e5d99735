"""Secrets and token claims: a short HS256 secret is refused at start-up outside development, and
``iss``/``aud`` are checked when configured (and set by ``gradeline token``)."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from ops.cli import app as cli
from shared.auth import InvalidToken, decode_token, mint_token
from shared.settings import Settings

SECRET = "a-secret-of-exactly-32-bytes-ok!"
ISSUER, AUDIENCE = "https://login.gradeline.example", "gradeline-api"


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("secret", ["short", "x" * 31, "密" * 10])  # 10 characters, 30 bytes
def test_a_jwt_secret_under_32_bytes_is_refused_outside_development(environment, secret):
    with pytest.raises(ValidationError, match=r"GRADELINE_JWT_SECRET.*32 bytes"):
        Settings(environment=environment, jwt_secret=secret)


def test_a_32_byte_secret_is_accepted_and_development_takes_any():
    assert len(SECRET.encode()) == 32
    production = Settings(environment="production", jwt_secret=SECRET, seal_key=SECRET)
    assert production.jwt_secret == SECRET
    assert Settings(environment="development", jwt_secret="short").jwt_secret == "short"


def test_issuer_and_audience_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADELINE_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("GRADELINE_JWT_AUDIENCE", AUDIENCE)
    settings = Settings()
    assert (settings.jwt_issuer, settings.jwt_audience) == (ISSUER, AUDIENCE)
    monkeypatch.setenv("GRADELINE_JWT_ISSUER", "")
    monkeypatch.delenv("GRADELINE_JWT_AUDIENCE")
    assert (Settings().jwt_issuer, Settings().jwt_audience) == (None, None)


def token(**claims) -> str:
    now = int(time.time())
    payload = {"sub": "boss", "roles": ["management"], "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not ...}, SECRET, "HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {},  # neither claim
        {"iss": "https://elsewhere.example", "aud": AUDIENCE},
        {"iss": ISSUER, "aud": "another-api"},
        {"iss": ISSUER},
        {"aud": AUDIENCE},
        {"iss": ISSUER, "aud": ["another-api", "a-third"]},
    ],
)
def test_a_token_without_the_configured_issuer_and_audience_is_refused(claims):
    with pytest.raises(InvalidToken):
        decode_token(token(**claims), SECRET, issuer=ISSUER, audience=AUDIENCE)


def test_a_token_with_the_configured_issuer_and_audience_is_trusted():
    for aud in (AUDIENCE, ["another-api", AUDIENCE]):
        principal = decode_token(
            token(iss=ISSUER, aud=aud), SECRET, issuer=ISSUER, audience=AUDIENCE
        )
        assert principal.sub == "boss"


def test_the_verified_token_cache_does_not_let_a_token_skip_the_issuer_check():
    plain = token()
    decode_token(plain, SECRET)  # trusted without an issuer configured: now cached
    with pytest.raises(InvalidToken):
        decode_token(plain, SECRET, issuer=ISSUER, audience=AUDIENCE)


def test_mint_token_sets_issuer_and_audience_when_given():
    minted = mint_token(SECRET, "clerk-1", ["branch_clerk"], issuer=ISSUER, audience=AUDIENCE)
    claims = jwt.decode(minted, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    assert "iss" not in jwt.decode(mint_token(SECRET, "c", ["trainer"]), SECRET, ["HS256"])


def test_gradeline_token_sets_the_configured_issuer_and_audience(monkeypatch):
    monkeypatch.setenv("GRADELINE_JWT_SECRET", SECRET)
    monkeypatch.setenv("GRADELINE_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("GRADELINE_JWT_AUDIENCE", AUDIENCE)

    result = CliRunner().invoke(cli, ["token", "--sub", "clerk-1", "--role", "branch_clerk"])

    assert result.exit_code == 0, result.output
    principal = decode_token(result.output.strip(), SECRET, issuer=ISSUER, audience=AUDIENCE)
    assert principal.sub == "clerk-1"
