"""The standard background work of a service, as factories for ``create_service_app``.

Each factory returns a :data:`shared.api.BackgroundTask`; each also registers the metrics
refresher that reports its lag at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared import db
from shared.api import AppContext, BackgroundTask, before_serving
from shared.consumer import Consumer, queue_depths
from shared.events import Envelope
from shared.inbox import Handler, revealing
from shared.ordering import parked_summary
from shared.partition_lease import Assignment
from shared.projections import Projection, ProjectionRunner, create_missing_tables
from shared.relay import Relay, UnroutableEvent, relay_lag
from shared.seal import seal_periodically
from shared.settings import WorkerKind
from shared.topology import Topology, is_consumed


def _kind(kind: WorkerKind, task: BackgroundTask) -> BackgroundTask:
    """Tag ``task`` with its kind, which ``GRADELINE_WORKERS`` turns on or off per process."""
    task.worker_kind = kind  # type: ignore[attr-defined]
    return task


def relay(mandatory: Callable[[str], bool] = is_consumed) -> BackgroundTask:
    """Publish this service's events (one active relay per service, whatever the replicas).

    ``mandatory``: the routing keys whose events must reach a queue, by default those some
    consuming service of the deployment binds (``shared.topology.CONSUMERS``); events nobody
    consumes (compensation's, today) are owed to no one and go out as before.
    """

    async def run_relay(ctx: AppContext) -> None:
        dsn = db.dsn_for_database(ctx.settings.pg_dsn, ctx.settings.database_name(ctx.service))
        unroutable = ctx.metrics.relay_unroutable.labels(ctx.service)

        def count(_: UnroutableEvent) -> None:
            unroutable.inc()

        worker = Relay(ctx.settings, ctx.service, dsn, mandatory=mandatory, on_unroutable=count)
        ctx.store.on_commit.append(worker.wake)
        ctx.blocked["relay"] = lambda: worker.blocked.describe() if worker.blocked else None

        async def refresh() -> None:
            ctx.metrics.relay_lag.labels(ctx.service).set(await relay_lag(ctx.pool, ctx.service))
            blocked = worker.blocked.position if worker.blocked else None
            ctx.metrics.relay_blocked_position.labels(ctx.service).set(blocked or 0)

        ctx.metrics.add_refresher(refresh)
        await worker.run()

    return _kind("relay", run_relay)


def consumer(handler: Handler, binding_keys: Sequence[str]) -> BackgroundTask:
    """Consume the upstream events named by ``binding_keys`` into the inbox through ``handler``."""

    async def run_consumer(ctx: AppContext) -> None:
        def committed(envelopes: Sequence[Envelope]) -> None:
            ctx.metrics.observe_consumed(envelopes)
            # Projections over the inbox see its new rows at once, as they see the store's
            # appends, instead of at their next poll.
            for wake in ctx.store.on_commit:
                wake()

        worker = Consumer(
            ctx.settings,
            ctx.service,
            ctx.pool,
            revealing(handler, ctx.personal),
            binding_keys,
            on_committed=committed,
            on_assignment=partition_share(ctx),
        )
        ctx.status["consumer"] = worker.ready.is_set

        dlq = Topology(ctx.settings.namespace, ctx.service, 1).dead_letter_queue

        async def refresh() -> None:
            for queue, depth in (await queue_depths(ctx.settings, ctx.service)).items():
                if queue == dlq:
                    ctx.metrics.dlq_depth.labels(ctx.service).set(depth)
                else:
                    ctx.metrics.consumer_lag.labels(ctx.service, queue).set(depth)

        async def parked() -> None:
            await refresh_parked(ctx)

        ctx.metrics.add_refresher(refresh)
        ctx.metrics.add_refresher(parked)
        await worker.run()

    return _kind("consumers", run_consumer)


def partition_share(ctx: AppContext) -> Callable[[Assignment, bool], None]:
    """The partition-lease metrics, set when the consumer's share changes (ADR 0019)."""

    def observe(assignment: Assignment, moved: bool) -> None:
        ctx.metrics.partitions_owned.labels(ctx.service).set(len(assignment.partitions))
        ctx.metrics.lease_fallback.labels(ctx.service).set(int(assignment.fallback))
        if moved:
            ctx.metrics.rebalances.labels(ctx.service).inc()

    return observe


async def refresh_parked(ctx: AppContext) -> None:
    """The parked-events gauges (``shared.ordering``) from the database."""
    summary = await parked_summary(ctx.pool, ctx.settings.consumer_parked_alert_seconds)
    ctx.metrics.parked.labels(ctx.service).set(summary.count)
    ctx.metrics.parked_oldest.labels(ctx.service).set(summary.oldest_seconds)
    ctx.metrics.parked_stale.labels(ctx.service).set(summary.stale)


def projections(items: Sequence[Projection]) -> BackgroundTask:
    """Keep the service's read models up to date; before the service serves, their tables exist
    (empty until first built), in every process: an API-only replica reads them too."""

    async def run_projections(ctx: AppContext) -> None:
        runner = ProjectionRunner(
            ctx.pool,
            ctx.service,
            items,
            batch_size=ctx.settings.projection_batch_size,
            poll_interval=ctx.settings.poll_interval_seconds,
            personal=ctx.personal,
        )
        ctx.store.on_commit.append(runner.wake)

        async def refresh() -> None:
            for name, lag in (await runner.lag()).items():
                ctx.metrics.projection_lag.labels(ctx.service, name).set(lag)

        ctx.metrics.add_refresher(refresh)
        await runner.run()

    async def create_tables(ctx: AppContext) -> None:
        await create_missing_tables(ctx.pool, items)

    return _kind("projections", before_serving(run_projections, create_tables))


def sealer() -> BackgroundTask:
    """Seal the store every ``seal_interval_minutes`` (shared/seal.py). Every process runs it,
    whatever its workers: a store sealed by one process at a time, and only when it grew."""

    async def run_sealer(ctx: AppContext) -> None:
        await seal_periodically(
            ctx.pool,
            ctx.service,
            ctx.settings.seal_key_bytes(),
            ctx.settings.seal_interval_minutes * 60,
        )

    return run_sealer


def consuming_service(
    handler: Handler, binding_keys: Sequence[str], items: Sequence[Projection]
) -> list[BackgroundTask]:
    """The background work of a service that consumes other services' events: its relay, its
    consumer (``handler`` for the events ``binding_keys`` name), its projections and the sealer."""
    return [relay(), consumer(handler, binding_keys), projections(items), sealer()]
