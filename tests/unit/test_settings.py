from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.relay import PUBLISHERS, publish_batch, publish_each
from shared.settings import DEVELOPMENT_JWT_SECRET, Settings

SEAL_KEY = "a-seal-key-of-thirty-two-bytes-or-more"
REAL_SECRET = "a-real-secret-" + "r" * 32


def test_defaults_work_against_local_servers(monkeypatch):
    for name in (
        "GRADELINE_PG_DSN",
        "GRADELINE_AMQP_URL",
        "GRADELINE_NAMESPACE",
        "GRADELINE_PORT_OFFSET",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.pg_dsn == "postgresql://postgres@127.0.0.1:5432/postgres"
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.database_name("training") == "gradeline_training"
    assert settings.exchange_name() == "gradeline.events"
    assert settings.port("assessment") == 8003


def test_environment_names_of_the_contract_are_read(monkeypatch):
    monkeypatch.setenv("GRADELINE_NAMESPACE", "acme")
    monkeypatch.setenv("GRADELINE_PORT_OFFSET", "100")
    settings = Settings()
    assert settings.database_name("enrollment") == "acme_enrollment"
    assert settings.port("compensation") == 8104


def test_placeholder_secret_is_refused_outside_development():
    with pytest.raises(ValidationError, match="GRADELINE_JWT_SECRET"):
        Settings(environment="production", jwt_secret=DEVELOPMENT_JWT_SECRET)
    real = Settings(environment="production", jwt_secret=REAL_SECRET, seal_key=SEAL_KEY)
    assert real.environment == "production"


@pytest.mark.parametrize("key", [None, "too-short-for-hmac"], ids=["missing", "short"])
def test_a_missing_or_short_seal_key_is_refused_outside_development(key):
    given = {} if key is None else {"seal_key": key}
    with pytest.raises(ValidationError, match="GRADELINE_SEAL_KEY"):
        Settings(environment="production", jwt_secret=REAL_SECRET, **given)
    assert Settings(**given).seal_key_bytes()  # development runs with the placeholder


def test_namespace_must_be_a_safe_identifier():
    with pytest.raises(ValidationError):
        Settings(namespace="bad name; drop")


def test_cors_origins_default_to_every_local_service_origin_with_the_offset(monkeypatch):
    monkeypatch.delenv("GRADELINE_CORS_ORIGINS", raising=False)
    monkeypatch.setenv("GRADELINE_PORT_OFFSET", "100")
    origins = Settings().allowed_origins()
    assert "http://127.0.0.1:8103" in origins
    assert "http://localhost:8101" in origins
    assert len(origins) == 8


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example, https://b.example/", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),  # CORS off
    ],
)
def test_cors_origins_are_read_as_a_list_or_comma_separated(monkeypatch, value, expected):
    monkeypatch.setenv("GRADELINE_CORS_ORIGINS", value)
    assert Settings().allowed_origins() == expected


@pytest.mark.parametrize(
    ("value", "workers"),
    [
        ("", []),
        ("all", ["relay", "consumers", "projections"]),
        ("relay, projections", ["relay", "projections"]),
        ('["consumers"]', ["consumers"]),
    ],
)
def test_gradeline_workers_is_a_list_of_worker_kinds(monkeypatch, value, workers):
    monkeypatch.setenv("GRADELINE_WORKERS", value)
    assert Settings().workers == workers


def test_every_worker_runs_by_default_and_an_unknown_one_is_refused(monkeypatch):
    monkeypatch.delenv("GRADELINE_WORKERS", raising=False)
    assert Settings().workers == ["relay", "consumers", "projections"]
    monkeypatch.setenv("GRADELINE_WORKERS", "relay,outbox")
    with pytest.raises(ValidationError, match="workers"):
        Settings()


@pytest.mark.parametrize(("value", "on"), [(None, False), ("true", True), ("false", False)])
def test_fastapi_native_telemetry_is_off_unless_gradeline_otel_says_so(monkeypatch, value, on):
    from shared.api import create_service_app

    monkeypatch.delenv("GRADELINE_OTEL", raising=False)
    if value is not None:
        monkeypatch.setenv("GRADELINE_OTEL", value)
    settings = Settings()
    assert settings.otel is on
    app = create_service_app(settings, service="things", title="T", routers=[], background=[])
    config = app._telemetry  # FastAPI's own config: no public reader
    assert (config["tracing"], config["metrics"], config["logs"]) == (on, on, on)


def test_database_liveness_defaults_are_the_connections_own():
    """Connections made without settings (the relay's lock connection) behave as configured
    ones do by default."""
    from shared.db import Liveness

    assert Settings().db_liveness() == Liveness()
    tuned = Settings(db_command_timeout_seconds=5, db_lock_idle_seconds=30).db_liveness()
    assert (tuned.command_timeout, tuned.lock_idle_seconds) == (5, 30)


def test_the_relay_publishes_frames_unless_told_plain_and_refuses_other_ways(monkeypatch):
    """``GRADELINE_RELAY_PUBLISH`` (ADR 0011), and the relay's publisher for each value."""
    monkeypatch.delenv("GRADELINE_RELAY_PUBLISH", raising=False)
    assert PUBLISHERS[Settings().relay_publish] is publish_batch
    monkeypatch.setenv("GRADELINE_RELAY_PUBLISH", "plain")
    assert PUBLISHERS[Settings().relay_publish] is publish_each
    monkeypatch.setenv("GRADELINE_RELAY_PUBLISH", "pamqp")
    with pytest.raises(ValidationError, match="relay_publish"):
        Settings()
