"""Prometheus metrics of one service app, in a registry of its own.

A registry per app (not the process-global default) lets several apps live in one test process
without "duplicated timeseries" errors. Lag and depth gauges are not pushed by the relay,
consumers or projections as they work: code that can measure them registers a refresher with
:meth:`Metrics.add_refresher`, and ``GET /metrics`` runs every refresher before rendering, so a
scrape always reports the lag as of now (and no lag is reported stale when a worker is stuck).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime

import asyncpg
import structlog
from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response

from shared.events import Envelope, NewEvent
from shared.eventstore import AppendResult, PostgresEventStore
from shared.personal import PersonalData

Refresher = Callable[[], Awaitable[None]]

REFRESH_TIMEOUT_SECONDS = 2.0  # a slow broker must not make the scrape itself time out

log = structlog.get_logger(__name__)


class Metrics:
    """The metrics of one service; label ``service`` is filled in by the helpers."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.events_appended = Counter(
            "gradeline_events_appended",
            "Events appended to this service's store (idempotent repeats excluded).",
            ["service"],
            registry=self.registry,
        )
        self.relay_lag = Gauge(
            "gradeline_relay_lag_events",
            "Events stored but not yet confirmed published by the relay.",
            ["service"],
            registry=self.registry,
        )
        self.relay_unroutable = Counter(
            "gradeline_relay_unroutable_events",
            "Relay publishes the broker returned as routed to no queue (the first of each failed"
            " batch; every retry counts again). Never checkpointed: the relay retries.",
            ["service"],
            registry=self.registry,
        )
        self.relay_blocked_position = Gauge(
            "gradeline_relay_blocked_position",
            "Position of the unroutable event the relay is held at (0: not blocked).",
            ["service"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "gradeline_consumer_lag_messages",
            "Messages waiting in a consumer queue.",
            ["service", "queue"],
            registry=self.registry,
        )
        self.projection_lag = Gauge(
            "gradeline_projection_lag_events",
            "Events (store and inbox) not yet applied by a projection.",
            ["service", "projection"],
            registry=self.registry,
        )
        self.dlq_depth = Gauge(
            "gradeline_dlq_depth",
            "Messages in this service's dead-letter queue.",
            ["service"],
            registry=self.registry,
        )
        self.parked = Gauge(
            "gradeline_consumer_parked_events",
            "Upstream events parked: come before their stream's previous version (ADR 0008).",
            ["service"],
            registry=self.registry,
        )
        self.parked_oldest = Gauge(
            "gradeline_consumer_parked_oldest_seconds",
            "Age of the oldest parked upstream event (0 when none).",
            ["service"],
            registry=self.registry,
        )
        self.parked_stale = Gauge(
            "gradeline_consumer_parked_stale_events",
            "Parked upstream events older than GRADELINE_CONSUMER_PARKED_ALERT_SECONDS: a"
            " missing version (dead-lettered, or never delivered: back-fill).",
            ["service"],
            registry=self.registry,
        )
        self.partitions_owned = Gauge(
            "gradeline_consumer_partitions_owned",
            "Partition queues this replica consumes: its share under the partition lease"
            " (ADR 0019), every partition while the lease cannot be read.",
            ["service"],
            registry=self.registry,
        )
        self.lease_fallback = Gauge(
            "gradeline_consumer_lease_fallback",
            "1 while this replica cannot read the partition lease and consumes every partition.",
            ["service"],
            registry=self.registry,
        )
        self.rebalances = Counter(
            "gradeline_consumer_rebalances",
            "Changes of this replica's share of the partitions (a replica joined or left).",
            ["service"],
            registry=self.registry,
        )
        self.event_delay = Histogram(
            "gradeline_consumer_event_delay_seconds",
            "From an upstream event's recording (its transaction's time) to its effect's commit.",
            ["service"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.http_requests = Histogram(
            "gradeline_http_request_duration_seconds",
            "HTTP request duration by route template and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.idempotency_purge_runs = Counter(
            "gradeline_idempotency_purge_runs",
            "Runs of the job that purges stored Idempotency-Key answers past their retention.",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.idempotency_purged = Counter(
            "gradeline_idempotency_purged",
            "Stored Idempotency-Key answers purged past their retention.",
            ["service"],
            registry=self.registry,
        )
        self.purges = PurgeRuns(service)
        self.registry.register(self.purges)
        # Touch the single-label series so a scrape shows them at 0 before anything happened.
        for metric in (
            self.events_appended,
            self.relay_lag,
            self.dlq_depth,
            self.idempotency_purged,
            self.relay_unroutable,
            self.relay_blocked_position,
            self.rebalances,
        ):
            metric.labels(service)
        self._refreshers: list[Refresher] = []
        self._http_children: dict[tuple[str, str, int], Histogram] = {}

    def add_refresher(self, refresher: Refresher) -> None:
        """Run ``refresher`` before every scrape (it sets gauges from the database or broker)."""
        self._refreshers.append(refresher)

    def count_appended(self, n: int) -> None:
        self.events_appended.labels(self.service).inc(n)

    def count_idempotency_purge(self, purged: int = 0, *, failed: bool = False) -> None:
        """One run of the idempotency housekeeping job and the answers it purged."""
        self.idempotency_purge_runs.labels(self.service, "failed" if failed else "ok").inc()
        self.idempotency_purged.labels(self.service).inc(purged)

    def report_purge(
        self,
        table: str,
        purged: int,
        *,
        ok: int,
        failed: int,
        last_run: datetime | None,
        last_success: datetime | None,
    ) -> None:
        """The scheduled purge's runs of ``table`` so far, as its database records them."""
        self.purges.by_table[table] = (purged, ok, failed, last_run, last_success)

    def observe_consumed(self, envelopes: Sequence[Envelope]) -> None:
        """The delay of each event a consumer just committed. ``recorded_at`` is the upstream
        database's clock, ``now`` this host's: across hosts the figure is as good as NTP."""
        child = self.event_delay.labels(self.service)
        now = time.time()
        for envelope in envelopes:
            child.observe(max(0.0, now - envelope.recorded_at.timestamp()))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled child, looked up once per (method, route, status): labels() takes a lock
        # and validates on every call. Route templates, methods and statuses are few: bounded.
        key = (method, route, status)
        child = self._http_children.get(key)
        if child is None:
            child = self.http_requests.labels(self.service, method, route, str(status))
            self._http_children[key] = child
        child.observe(seconds)

    async def refresh(self) -> None:
        """Run every refresher concurrently; one that fails or hangs is logged, not fatal."""
        if not self._refreshers:
            return
        results = await asyncio.gather(
            *(asyncio.wait_for(r(), REFRESH_TIMEOUT_SECONDS) for r in self._refreshers),
            return_exceptions=True,
        )
        for refresher, result in zip(self._refreshers, results, strict=True):
            if isinstance(result, BaseException):
                name = getattr(refresher, "__qualname__", repr(refresher))
                log.warning("metrics_refresh_failed", refresher=name, error=repr(result))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class PurgeRuns(Collector):
    """The scheduled purge's runs (``gradeline purge``, shared/housekeeping.py) per table: the
    job's process is not scraped, so the totals are read from the service's database before each
    scrape and exposed as they are (counters that the database, not this process, counts)."""

    def __init__(self, service: str) -> None:
        self.service = service
        # table -> (rows purged, runs ok, runs failed, last run, last success)
        self.by_table: dict[str, tuple[int, int, int, datetime | None, datetime | None]] = {}

    def collect(self) -> Iterator[Metric]:
        purged = CounterMetricFamily(
            "gradeline_purged_rows",
            "Rows the scheduled purge emptied or deleted past their retention, per table.",
            labels=["service", "table"],
        )
        runs = CounterMetricFamily(
            "gradeline_purge_runs",
            "Runs of the scheduled purge (gradeline purge), per table and outcome.",
            labels=["service", "table", "outcome"],
        )
        last_run = GaugeMetricFamily(
            "gradeline_purge_last_run_timestamp_seconds",
            "When the scheduled purge last ran on a table (Unix time).",
            labels=["service", "table"],
        )
        last_success = GaugeMetricFamily(
            "gradeline_purge_last_success_timestamp_seconds",
            "When the scheduled purge last succeeded on a table (Unix time).",
            labels=["service", "table"],
        )
        for table, (rows, ok, failed, ran, succeeded) in sorted(self.by_table.items()):
            purged.add_metric([self.service, table], rows)
            runs.add_metric([self.service, table, "ok"], ok)
            runs.add_metric([self.service, table, "failed"], failed)
            if ran is not None:
                last_run.add_metric([self.service, table], ran.timestamp())
            if succeeded is not None:
                last_success.add_metric([self.service, table], succeeded.timestamp())
        yield from (purged, runs, last_run, last_success)


async def _scrape(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    await metrics.refresh()
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def metrics_router() -> APIRouter:
    """``GET /metrics`` in the Prometheus text format (left out of the OpenAPI document)."""
    router = APIRouter()
    router.add_api_route("/metrics", _scrape, methods=["GET"], include_in_schema=False)
    return router


class MeteredEventStore(PostgresEventStore):
    """The PostgreSQL store, counting appended events in ``gradeline_events_appended_total``.

    An append made inside a caller's transaction is counted when it returns, so one whose
    transaction later rolls back still counts: the counter is a rate signal, not a ledger.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        service: str,
        metrics: Metrics,
        personal: PersonalData | None = None,
    ) -> None:
        super().__init__(pool, service, personal)
        self.metrics = metrics

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> AppendResult:
        result = await super().append(
            stream_id, events, expected_version, idempotency_key=idempotency_key, conn=conn
        )
        if not result.replayed:
            self.metrics.count_appended(result.last_version - result.first_version + 1)
        return result
