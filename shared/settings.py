"""Typed settings, read from ``GRADELINE_*`` environment variables (README.md, "Configuration")."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.db import Liveness

DEVELOPMENT_JWT_SECRET = "gradeline-development-secret-change-me"
DEVELOPMENT_SEAL_KEY = "gradeline-development-seal-key-change-me"
MIN_SEAL_KEY_BYTES = 32  # HMAC-SHA256's own strength: a shorter key is the weaker link
# RFC 7518 3.2: an HS256 key must be at least as long as the hash output, 256 bits.
MIN_JWT_SECRET_BYTES = 32

WorkerKind = Literal["relay", "consumers", "projections"]
WORKERS: tuple[WorkerKind, ...] = ("relay", "consumers", "projections")

# A claim's place in a token: names separated by dots, each reaching into a nested object.
CLAIM_PATH = r"^[^.\s]+(\.[^.\s]+)*$"
# RFC 6749 3.3: a scope token is printable ASCII but space, double quote and backslash.
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")

SERVICE_PORTS = {"enrollment": 8001, "training": 8002, "assessment": 8003, "compensation": 8004}


def _list_from_env(value: Any) -> Any:
    """A list variable's text, as a JSON list or comma-separated ("" is the empty list)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


class Settings(BaseSettings):
    """Every setting has a default that works against the local servers."""

    model_config = SettingsConfigDict(env_prefix="GRADELINE_", frozen=True, extra="ignore")

    pg_dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    # The server of the key database ``<namespace>_keys`` (shared/keystore, docs/privacy.md).
    # All four services must reach the same one: a person's key seals their fields in one
    # service and reveals them in the others. Unset: ``pg_dsn``'s server.
    keystore_dsn: str | None = None
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    namespace: str = Field(default="gradeline", pattern=r"^[a-z][a-z0-9_]{0,39}$")
    port_offset: int = Field(default=0, ge=0, le=50000)
    # Where assessment's POST /what-if asks compensation for the pay consequences of a draft
    # (docs/what-if.md); unset: this host at compensation's port (with the offset).
    compensation_url: str | None = None
    # Where enrollment's GET /people/{id}/data gathers the other services' parts of a person's
    # data (docs/privacy.md); unset: this host at the service's port (with the offset).
    training_url: str | None = None
    assessment_url: str | None = None
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    # When set, a token must carry this ``iss`` / this ``aud`` (one of its audiences), and
    # ``gradeline token`` puts them in the tokens it mints. Unset: neither claim is checked.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # OpenID Connect (ADR 0013): when an issuer is set, bearer tokens are the issuer's (RS256 or
    # ES256, keys from its JWKS, ``iss`` and ``aud`` checked); HS256 tokens signed with
    # ``jwt_secret`` stay valid in development and test only. The claim settings are dotted
    # paths into the token (``realm_access.roles`` is Keycloak's nesting).
    oidc_issuer: str | None = None
    oidc_audience: str = Field(default="gradeline", min_length=1)
    oidc_roles_claim: str = Field(default="roles", pattern=CLAIM_PATH)
    oidc_branch_claim: str = Field(default="branch_id", pattern=CLAIM_PATH)
    oidc_department_claim: str = Field(default="department", pattern=CLAIM_PATH)
    # Where the caller's id is: ``sub`` unless the provider's ``sub`` is an id of its own (a
    # Keycloak user's uuid) and the ids Gradeline knows people by sit in another claim.
    oidc_subject_claim: str = Field(default="sub", pattern=CLAIM_PATH)
    # What the pages ask the provider for (GET /auth/config). Space- or comma-separated, or a
    # JSON list. Entra needs the API's scope here (``api://<app>/.default``) to issue an access
    # token for it, and ``offline_access`` for a refresh token.
    oidc_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "profile", "email"]
    )
    # The public client (Authorization Code + PKCE, no secret) the browser pages sign in with.
    oidc_client_id: str = Field(default="gradeline-web", min_length=1)
    # Least seconds between two JWKS fetches that a token with an unknown ``kid`` may cause:
    # a rotation at the provider is picked up at the first such token, and tokens with made-up
    # key ids cannot make the services hammer the provider.
    oidc_jwks_refetch_seconds: float = Field(default=10.0, ge=0, le=3600)
    # The confidential client the ``gradeline`` command signs in as (the client-credentials
    # grant at the issuer's token endpoint, ops/credentials.py) to call the services where they
    # refuse HS256 tokens (production with an issuer). Unset: the command mints HS256 tokens.
    cli_client_id: str | None = None
    cli_client_secret: SecretStr | None = None
    # What the command asks the token endpoint for (``scope``); empty: no scope parameter (the
    # client's defaults). Entra wants the API's ``api://<app>/.default`` here.
    cli_scopes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Where the browser pages call each service (GET /auth/config's ``api_urls``): a template
    # with ``{service}``, absolute or a path on the pages' own origin (``/api/{service}`` behind
    # the Ingress). Unset: each service's port on the page's host (``make run``).
    pages_api_url: str | None = None
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    # Browser origins allowed to call the APIs cross-origin (the dashboard served by one service
    # calls the other three). None: every service's local origin (127.0.0.1 and localhost, with
    # the port offset); an empty list turns CORS off. The variable is a JSON list or a
    # comma-separated string.
    cors_origins: Annotated[list[str] | None, NoDecode] = None
    # The background workers this process runs beside its API. Every process runs all three by
    # default (one process per service); to scale the API alone, run replicas with none ("")
    # and one process with all. The relay is one-active by advisory lock and consumers share
    # partitions, so running them in several processes is safe, only wasteful.
    workers: Annotated[list[WorkerKind], NoDecode] = Field(default_factory=lambda: list(WORKERS))
    # How long a stored Idempotency-Key answer is replayed before the housekeeping job purges it
    # (an ISO 8601 duration such as P7D, or seconds). The IETF draft asks for at least 24 hours.
    # A repeat after that runs again, and the event store still applies its effect only once.
    idempotency_retention: timedelta = Field(default=timedelta(days=7), ge=timedelta(hours=24))
    idempotency_purge_interval_seconds: float = Field(default=3600, gt=0, le=86400)
    # How long a received upstream event keeps its payload in the inbox when nothing reads its
    # type again (`gradeline purge`, ADR 0020); the row itself stays for the dedup.
    inbox_retention: timedelta = Field(default=timedelta(days=90), ge=timedelta(hours=24))
    # Mechanism tuning; the defaults suit one process per service on a small machine.
    pool_size: int = Field(default=10, ge=1, le=100)
    consumer_partitions: int = Field(default=4, ge=1, le=64)
    consumer_prefetch: int = Field(default=64, ge=1, le=10000)
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)
    consumer_batch_size: int = Field(default=100, ge=1, le=1000)
    # How often a consumer looks for partition queues past its count (left by a lowered
    # consumer_partitions: drained, then deleted) and for parked events it can apply (ADR 0008).
    consumer_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Parked events (come before their stream's previous version) waiting longer than this are
    # reported: gradeline_consumer_parked_stale_events and a warning at each sweep.
    consumer_parked_alert_seconds: float = Field(default=300.0, gt=0)
    # The replicas of a consumer share its partitions through a lease in the service's database
    # (ADR 0019): each beats every third of this; one whose last beat is older counts as gone,
    # and its partitions move to the others within about 1.3 times this.
    consumer_lease_ttl_seconds: float = Field(default=5.0, gt=0, le=300)
    relay_batch_size: int = Field(default=500, ge=1, le=10000)
    # How the relay hands a batch to the broker (ADR 0011): "frames" writes hand-marshalled AMQP
    # frames into aiormq's channel state (shared.relay.publish_batch); "plain" uses aiormq's own
    # basic_publish per event, slower, for an aiormq whose internals no longer fit the frames.
    relay_publish: Literal["frames", "plain"] = "frames"
    poll_interval_seconds: float = Field(default=0.02, gt=0, le=10)
    projection_batch_size: int = Field(default=500, ge=1, le=10000)
    # Net new container objects before the garbage collector's youngest generation runs
    # (shared/api.py, tune_gc); 0 keeps the interpreter's own thresholds.
    gc_gen0_threshold: int = Field(default=10_000, ge=0, le=10_000_000)
    # Streams whose folded state a process keeps for commands (shared.execution.StateCache), least
    # recently used first out; 0 turns the cache off. A training plan's state with months of
    # daily records is a few hundred KB: size this to the trainees in training at a time.
    state_cache_size: int = Field(default=2_000, ge=0, le=1_000_000)
    # The grade board lists each cell's trainee ids inline up to this many trainees in all;
    # beyond, it answers counts and a drill-down link per cell (never a list cut short).
    board_inline_trainees: int = Field(default=1_000, ge=0, le=1_000_000)
    # The key of the seals (shared/seal.py): HMAC-SHA256 over every stream head, kept outside the
    # database so that someone who can write the database cannot forge a seal. Refused outside
    # development when left at the placeholder or shorter than 32 bytes.
    seal_key: SecretStr = SecretStr(DEVELOPMENT_SEAL_KEY)
    seal_interval_minutes: float = Field(default=5.0, gt=0, le=1_440)
    # How long a PostgreSQL connection may go silent before it counts as dead (shared.db.Liveness):
    # a statement unanswered (or a transaction left idle) this long fails; the server's TCP
    # keepalive probes; the idle limit of the relay's lock connection, after which the server
    # ends its session and frees the lock for a standby.
    db_command_timeout_seconds: float = Field(default=60.0, gt=0, le=86_400)
    db_keepalive_idle_seconds: int = Field(default=30, ge=1, le=7_200)
    db_keepalive_interval_seconds: int = Field(default=10, ge=1, le=600)
    db_keepalive_count: int = Field(default=3, ge=1, le=50)
    db_lock_idle_seconds: int = Field(default=300, ge=1, le=86_400)
    # FastAPI's native OpenTelemetry (tracing, metrics, logs through the process's global
    # providers). Off by default: Gradeline exports Prometheus metrics and JSON logs, and the
    # check whether any provider is configured would run on every request.
    otel: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return _list_from_env(value)

    @field_validator("oidc_scopes", mode="before")
    @classmethod
    def _parse_scopes(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().startswith("["):
            value = value.replace(",", " ").split()
        return _list_from_env(value)

    @field_validator("cli_scopes", mode="before")
    @classmethod
    def _parse_cli_scopes(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().startswith("["):
            value = value.replace(",", " ").split()
        return _list_from_env(value)

    @field_validator("pages_api_url")
    @classmethod
    def _pages_api_url_names_the_service(cls, value: str | None) -> str | None:
        if value is None:
            return None
        example = "/api/{service} or https://gradeline.example.com/api/{service}"
        if "{service}" not in value:
            raise ValueError(f"GRADELINE_PAGES_API_URL must contain {{service}}: {example}")
        parts = urlsplit(value.replace("{service}", "service"))
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
        path = not parts.scheme and not parts.netloc and value.startswith("/")
        if not (absolute or path) or parts.query or parts.fragment:
            raise ValueError(
                f"GRADELINE_PAGES_API_URL must be an http(s) URL or a path from /: {example}"
            )
        return value.rstrip("/")

    @field_validator("oidc_scopes")
    @classmethod
    def _scopes_for_openid_connect(cls, value: list[str]) -> list[str]:
        malformed = [scope for scope in value if not SCOPE_TOKEN.match(scope)]
        if malformed:
            raise ValueError(
                f"not a scope (RFC 6749 3.3: no space, quote or backslash): {malformed}"
            )
        if "openid" not in value:
            raise ValueError(
                "GRADELINE_OIDC_SCOPES must include openid: the pages need the ID token"
            )
        return list(dict.fromkeys(value))

    @field_validator("workers", mode="before")
    @classmethod
    def _parse_workers(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "all":
            return list(WORKERS)
        return _list_from_env(value)

    @field_validator(
        "jwt_issuer",
        "jwt_audience",
        "oidc_issuer",
        "cli_client_id",
        "cli_client_secret",
        "pages_api_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_is_a_url(cls, value: str | None) -> str | None:
        # OpenID Connect Discovery 1.0, section 2: a URL with a host, no query or fragment.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("GRADELINE_OIDC_ISSUER must be an http(s) URL with a host")
        if parts.query or parts.fragment:
            raise ValueError("GRADELINE_OIDC_ISSUER must have no query or fragment")
        return value

    @model_validator(mode="after")
    def _issuer_over_https_in_production(self) -> Settings:
        # The JWKS decides whom the services trust: in production it is fetched over TLS,
        # except from a provider on this machine.
        if self.environment != "production" or self.oidc_issuer is None:
            return self
        parts = urlsplit(self.oidc_issuer)
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                "GRADELINE_OIDC_ISSUER must be an https URL in production "
                f"(plain http only for a provider on 127.0.0.1/localhost): {self.oidc_issuer}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.environment == "development":
            return self
        if self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError(
                "GRADELINE_JWT_SECRET is the development placeholder; set a real secret "
                f"outside development (environment={self.environment})"
            )
        length = len(self.jwt_secret.encode())
        if length < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"GRADELINE_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes outside "
                f"development (it is {length} bytes, environment={self.environment}); "
                "generate one with `openssl rand -base64 48`"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_seal_key(self) -> Settings:
        if self.environment == "development":
            return self
        key = self.seal_key.get_secret_value()
        if key == DEVELOPMENT_SEAL_KEY or len(key.encode()) < MIN_SEAL_KEY_BYTES:
            raise ValueError(
                f"GRADELINE_SEAL_KEY must be set to a key of {MIN_SEAL_KEY_BYTES}+ bytes outside"
                f" development (environment={self.environment}); keep it outside the database"
            )
        return self

    def accepts_hs256(self) -> bool:
        """Whether HS256 tokens signed with ``jwt_secret`` are trusted: always without an issuer;
        with one, only in development and test (ADR 0013)."""
        return self.oidc_issuer is None or self.environment != "production"

    def pages_api_urls(self) -> dict[str, str] | None:
        """Each service's address for the browser pages (``pages_api_url`` filled in); None:
        the pages use each service's port on their own host."""
        if self.pages_api_url is None:
            return None
        return {s: self.pages_api_url.replace("{service}", s) for s in SERVICE_PORTS}

    def seal_key_bytes(self) -> bytes:
        return self.seal_key.get_secret_value().encode()

    def db_liveness(self) -> Liveness:
        return Liveness(
            command_timeout=self.db_command_timeout_seconds,
            keepalive_idle=self.db_keepalive_idle_seconds,
            keepalive_interval=self.db_keepalive_interval_seconds,
            keepalive_count=self.db_keepalive_count,
            lock_idle_seconds=self.db_lock_idle_seconds,
        )

    def database_name(self, service: str) -> str:
        return f"{self.namespace}_{service}"

    def exchange_name(self) -> str:
        return f"{self.namespace}.events"

    def port(self, service: str) -> int:
        return SERVICE_PORTS[service] + self.port_offset

    def compensation_base_url(self) -> str:
        """compensation's base URL, as another service calls it (``compensation_url``)."""
        return self.base_url("compensation")

    def base_url(self, service: str) -> str:
        """A service's base URL, as another calls it (``training_url``, ``assessment_url``,
        ``compensation_url``; unset: this host at the service's port)."""
        configured = {
            "training": self.training_url,
            "assessment": self.assessment_url,
            "compensation": self.compensation_url,
        }.get(service)
        url = configured or f"http://127.0.0.1:{self.port(service)}"
        return url.rstrip("/")

    def allowed_origins(self) -> list[str]:
        """The origins CORS allows: ``cors_origins``, or by default every service's own."""
        if self.cors_origins is not None:
            return [origin.rstrip("/") for origin in self.cors_origins]
        return [
            f"http://{host}:{self.port(service)}"
            for service in SERVICE_PORTS
            for host in ("127.0.0.1", "localhost")
        ]
