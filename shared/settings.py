"""Typed settings, read from ``GRADELINE_*`` environment variables (api-contract.md, "Running")."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "gradeline-development-secret-change-me"

WorkerKind = Literal["relay", "consumers", "projections"]
WORKERS: tuple[WorkerKind, ...] = ("relay", "consumers", "projections")

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
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    namespace: str = Field(default="gradeline", pattern=r"^[a-z][a-z0-9_]{0,39}$")
    port_offset: int = Field(default=0, ge=0, le=50000)
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
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
    relay_batch_size: int = Field(default=500, ge=1, le=10000)
    poll_interval_seconds: float = Field(default=0.02, gt=0, le=10)
    projection_batch_size: int = Field(default=500, ge=1, le=10000)
    # Net new container objects before the garbage collector's youngest generation runs
    # (shared/api.py, tune_gc); 0 keeps the interpreter's own thresholds.
    gc_gen0_threshold: int = Field(default=10_000, ge=0, le=10_000_000)
    # Streams whose folded state a process keeps for commands (shared.decider.StateCache), least
    # recently used first out; 0 turns the cache off. A training plan's state with months of
    # daily records is a few hundred KB: size this to the trainees in training at a time.
    state_cache_size: int = Field(default=2_000, ge=0, le=1_000_000)
    # FastAPI's native OpenTelemetry (tracing, metrics, logs through the process's global
    # providers). Off by default: Gradeline exports Prometheus metrics and JSON logs, and the
    # check whether any provider is configured ran on every request (~4 µs).
    otel: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return _list_from_env(value)

    @field_validator("workers", mode="before")
    @classmethod
    def _parse_workers(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "all":
            return list(WORKERS)
        return _list_from_env(value)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "development" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError(
                "GRADELINE_JWT_SECRET is the development placeholder; set a real secret "
                f"outside development (environment={self.environment})"
            )
        return self

    def database_name(self, service: str) -> str:
        return f"{self.namespace}_{service}"

    def exchange_name(self) -> str:
        return f"{self.namespace}.events"

    def port(self, service: str) -> int:
        return SERVICE_PORTS[service] + self.port_offset

    def allowed_origins(self) -> list[str]:
        """The origins CORS allows: ``cors_origins``, or by default every service's own."""
        if self.cors_origins is not None:
            return [origin.rstrip("/") for origin in self.cors_origins]
        return [
            f"http://{host}:{self.port(service)}"
            for service in SERVICE_PORTS
            for host in ("127.0.0.1", "localhost")
        ]
